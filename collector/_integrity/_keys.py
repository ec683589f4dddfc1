"""Ed25519 signing keys: loading from settings, generating a local one, publishing public halves."""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._offline import key_id_of, public_key_from_text
from ._settings import IntegritySettings
from .errors import IntegrityError

if TYPE_CHECKING:
    from .._store._client import Store

log = logging.getLogger("collector.integrity")
KEY_FILE_NAME = "integrity-signing-key.pem"


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private key and what verifiers need to know of it."""

    key_id: str
    private: Any  # Ed25519PrivateKey (kept Any: cryptography's types are not part of our interface)
    public_pem: str

    def sign(self, message: bytes) -> str:
        return bytes(self.private.sign(message)).hex()


def _from_private(private: Any) -> SigningKey:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    public = private.public_key()
    pem = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    return SigningKey(key_id_of(public), private, pem)


def parse_private_key(text: str) -> SigningKey:
    """A key from PEM (PKCS#8) or a raw base64 32-byte seed."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = load_pem_private_key(text.encode(), password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
    except Exception as exc:
        # The key text itself must never reach a message or a log.
        raise IntegrityError(f"the signing key cannot be read ({type(exc).__name__})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise IntegrityError("the signing key is not an Ed25519 key")
    return _from_private(key)


def default_key_dir(settings: IntegritySettings, store_dsn: str) -> Path:
    if settings.key_dir:
        return Path(settings.key_dir).expanduser()
    if store_dsn.startswith("chdb://"):
        return Path(store_dsn[len("chdb://") :])
    return Path(".autogen-audit").resolve()


def generate_key_file(path: Path) -> SigningKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return _from_private(private)


def configured_key(settings: IntegritySettings, store_dsn: str) -> SigningKey | None:
    """The configured key, else the one generated next to the store earlier; None when there is neither."""
    if settings.signing_key.get_secret_value():
        return parse_private_key(settings.signing_key.get_secret_value())
    if settings.signing_key_file:
        path = Path(settings.signing_key_file).expanduser()
        return _key_from_file(path, f"AUDIT_SIGNING_KEY_FILE {path}")
    path = default_key_dir(settings, store_dsn) / KEY_FILE_NAME
    if path.exists():
        return _key_from_file(path, f"the signing key file {path}")
    return None


def _key_from_file(path: Path, where: str) -> SigningKey:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise IntegrityError(f"cannot read {where}: {exc.strerror}") from exc
    except UnicodeDecodeError:
        raise IntegrityError(f"{where}: the signing key cannot be read (not UTF-8 text)") from None
    try:
        return parse_private_key(text)
    except IntegrityError as exc:  # its message names the error class only, never the key
        raise IntegrityError(f"{where}: {exc}") from None


def load_signing_key(settings: IntegritySettings, store_dsn: str) -> SigningKey:
    """The configured key, else the generated one next to the store (created on first use)."""
    found = configured_key(settings, store_dsn)
    if found is not None:
        return found
    path = default_key_dir(settings, store_dsn) / KEY_FILE_NAME
    key = generate_key_file(path)
    log.warning(
        "integrity: NO SIGNING KEY CONFIGURED - generated %s (key id %s, mode 0600). Checkpoints signed with "
        "a key stored next to the data prove little: set AUDIT_SIGNING_KEY_FILE to a key kept elsewhere "
        "and give auditors its public half.",
        path,
        key.key_id,
    )
    return key


def publish_public_key(store: Store, key: SigningKey) -> None:
    """Record the public half so `verify` can find it by key id (rotation keeps every old one)."""
    _, rows = store.query("SELECT count() FROM signing_keys WHERE key_id = {k:String}", parameters={"k": key.key_id})
    if not rows[0][0]:
        store.insert("signing_keys", [[key.key_id, key.public_pem]], ["key_id", "public_key"])


def store_public_keys(store: Store) -> dict[str, Any]:
    """Key id -> public key, for every key the store has seen (trust on first use; pin with --pubkey)."""
    _, rows = store.query("SELECT key_id, any(public_key) FROM signing_keys GROUP BY key_id")
    keys: dict[str, Any] = {}
    for key_id, text in rows:
        public = public_key_from_text(str(text))
        if key_id_of(public) == key_id:  # a row whose id does not match its key is ignored, not trusted
            keys[str(key_id)] = public
    return keys


def pinned_public_keys(paths: list[str]) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    for name in paths:
        not_a_key = IntegrityError(f"{name} is not an Ed25519 public key (PEM or base64)")
        try:
            text = Path(name).read_text(encoding="utf-8")
        except OSError as exc:
            raise IntegrityError(f"cannot read public key {name}: {exc.strerror}") from exc
        except UnicodeDecodeError:
            raise not_a_key from None
        try:
            public = public_key_from_text(text)
        except (ValueError, TypeError):
            # A private key file given by mistake: derive the public half, never echo it.
            try:
                public = parse_private_key(text).private.public_key()
            except IntegrityError:
                raise not_a_key from None
        keys[key_id_of(public)] = public
    return keys


def release_keys(
    settings: IntegritySettings, store_dsn: str, pinned: Sequence[str] = (), key: SigningKey | None = None
) -> dict[str, Any]:
    """Key id -> public key, for the keys a hold release must be signed under for retention to count it:
    ``key`` (else the configured signing key, never generated here) and the ``pinned`` public key files
    (keys used before a rotation). Never the store's ``signing_keys``: whoever can write the store can
    register a key there and sign a release of their own with it."""
    keys = pinned_public_keys(list(pinned))
    own = key if key is not None else configured_key(settings, store_dsn)
    if own is not None:
        keys[own.key_id] = own.private.public_key()
    return keys
