"""The auditor's UI: server-rendered pages and a JSON API over the audit store."""

from ._app import create_app
from ._auth import Principal
from ._keys import KeyRecord, add_key, hash_key, list_keys, revoke_key
from ._settings import UISettings
from .errors import UIError

__all__ = [
    "KeyRecord",
    "Principal",
    "UIError",
    "UISettings",
    "add_key",
    "create_app",
    "hash_key",
    "list_keys",
    "revoke_key",
]
