"""A seeded, labelled evaluation set of agent traffic (needs Faker, a dev dependency).

Each sample is a text with character spans of the PII and secrets planted in it: chat turns,
tool-call JSON, and logs, plus distractors that look like PII but are not (versions, dates,
order ids, hashes, UUIDs). Names come 80% from locales the shipped name lists were built from and
20% from locales they were not (nl_NL, pl_PL, sv_SE, pt_BR), reported apart as PERSON_OOV.
"""

from __future__ import annotations

import base64
import datetime
import json
import random
import string
from dataclasses import dataclass

from faker import Faker

# Faker draws dates and times up to "now" unless given an end: fixed, so a seed gives one set.
_END = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
IN_VOCAB = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT")
OUT_OF_VOCAB = ("nl_NL", "pl_PL", "sv_SE", "pt_BR")
PHONE_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "en_AU", "ja_JP", "en_IN")
CARD_TYPES = (
    "visa16",
    "visa13",
    "visa19",
    "mastercard",
    "amex",
    "discover",
    "jcb16",
    "jcb15",
    "diners",
    "maestro",
)


@dataclass(frozen=True, slots=True)
class Sample:
    text: str
    spans: tuple[tuple[int, int, str], ...]  # (start, end, entity)


class _Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[tuple[int, int, str]] = []
        self.n = 0

    def add(self, text: str, entity: str | None = None) -> None:
        if entity:
            self.spans.append((self.n, self.n + len(text), entity))
        self.parts.append(text)
        self.n += len(text)

    def sample(self) -> Sample:
        return Sample("".join(self.parts), tuple(self.spans))


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        # In a fixed order: each Faker's seed is its position, and a set's order changes with the
        # process's string hash seed (the same --seed then gave a different set in every process).
        self.fakers = {loc: Faker(loc) for loc in dict.fromkeys((*IN_VOCAB, *OUT_OF_VOCAB, *PHONE_LOCALES))}
        for i, f in enumerate(self.fakers.values()):
            f.seed_instance(seed * 1000 + i)
        self.en = self.fakers["en_US"]

    def _tok(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def value(self, entity: str) -> tuple[str, str]:
        r, f = self.rng, self.en
        an = string.ascii_letters + string.digits
        if entity == "EMAIL_ADDRESS":
            return f.email() if r.random() < 0.5 else f.free_email(), entity
        if entity == "PHONE_NUMBER":
            return self.fakers[r.choice(PHONE_LOCALES)].phone_number(), entity
        if entity == "CREDIT_CARD":
            num = f.credit_card_number(r.choice(CARD_TYPES))
            if r.random() < 0.4 and len(num) == 16:
                num = " ".join(num[i : i + 4] for i in range(0, 16, 4))
            return num, entity
        if entity == "IBAN_CODE":
            iban = self.fakers[r.choice(IN_VOCAB + OUT_OF_VOCAB)].iban()
            return (" ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if r.random() < 0.4 else iban), entity
        if entity == "PWD":
            return self._tok(an, r.randint(8, 16)), "PASSWORD"
        if entity == "IP_ADDRESS":
            return (f.ipv4() if r.random() < 0.8 else f.ipv6()), entity
        if entity == "PERSON":
            loc = r.choice(OUT_OF_VOCAB) if r.random() < 0.2 else r.choice(IN_VOCAB)
            g = self.fakers[loc]
            return f"{g.first_name()} {g.last_name()}", "PERSON_OOV" if loc in OUT_OF_VOCAB else "PERSON"
        if entity == "LOCATION":
            roll = r.random()
            if roll < 0.4:
                return f.street_address(), entity
            if roll < 0.6:
                return f"{f.city()}, {f.state_abbr()} {f.postcode()}", entity
            if roll < 0.8:
                return f.country(), entity
            return self.fakers["de_DE"].city() if r.random() < 0.5 else f.city(), entity
        kind = r.choice(["openai", "anthropic", "aws_id", "github", "slack", "jwt", "bearer", "pem"])
        if kind == "openai":
            return "sk-proj-" + self._tok(an, 40) + "1A", "API_KEY"
        if kind == "anthropic":
            return "sk-ant-api03-" + self._tok(an + "-_", 60) + "9Z", "API_KEY"
        if kind == "aws_id":
            return "AKIA" + self._tok(string.ascii_uppercase + string.digits, 16), "API_KEY"
        if kind == "github":
            return "ghp_" + self._tok(an, 36), "API_KEY"
        if kind == "slack":
            return f"xoxb-{r.randint(10**11, 10**12)}-{self._tok(an, 24)}", "API_KEY"
        if kind == "jwt":
            head = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
            body = base64.urlsafe_b64encode(json.dumps({"sub": f.uuid4()}).encode()).decode().rstrip("=")
            return f"{head}.{body}.{self._tok(an + '-_', 43)}", "JWT"
        if kind == "bearer":
            return "Bearer " + self._tok(an, 8) + str(r.randint(10, 99)) + self._tok(an, 20), "AUTH_HEADER"
        if kind == "pem":
            body = "\n".join(self._tok(an + "+/", 64) for _ in range(3))
            return f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----", "PRIVATE_KEY"
        return "-----BEGIN RSA PRIVATE KEY-----\n" + self._tok(
            an + "+/", 64
        ) + "\n-----END RSA PRIVATE KEY-----", "PRIVATE_KEY"

    def distractor(self) -> str:
        r, f = self.rng, self.en
        return r.choice([
            f"version {r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 30)}",
            f"on {f.date(end_datetime=_END)}", f"at {f.time(end_datetime=_END)}",
            f"order ORD-{r.randint(10**5, 10**7)}", f"commit {f.sha1()}", f"request {f.uuid4()}",
            f"took {r.randint(1, 5000)} ms", f"port {r.randint(1024, 65000)}", f"total {r.randint(1, 9999)}.{r.randint(10, 99)} USD",  # noqa: E501
            f"ts={r.randint(1_600_000_000, 1_800_000_000)}", f"the {f.word()} {f.word()} step", "HTTP 200 OK",
        ])  # fmt: skip


CHAT = [
    "Hi, my name is {PERSON}. You can reach me at {EMAIL_ADDRESS} or {PHONE_NUMBER}.",
    "Please update the billing card to {CREDIT_CARD} for {PERSON}, {d}.",
    "Customer {PERSON} lives at {LOCATION} and wants a refund to {IBAN_CODE}.",
    "Send the invoice to {EMAIL_ADDRESS}; the account IBAN is {IBAN_CODE} ({d}).",
    "Dr. {PERSON} called from {PHONE_NUMBER} about the shipment to {LOCATION}.",
    "I moved to {LOCATION} last month, {d}. My new number is {PHONE_NUMBER}.",
    "The user {PERSON} reported a login failure from {IP_ADDRESS} {d}.",
    "Assistant: I found {PERSON} in the CRM; the address on file is {LOCATION}.",
    "Thanks {PERSON}! I have noted {EMAIL_ADDRESS} and will call {PHONE_NUMBER} tomorrow.",
    "Here is my config: OPENAI_API_KEY={SECRET} and we deploy {d}.",
]
LOGS = [
    "2024-05-01T12:00:01Z INFO request from {IP_ADDRESS} user={EMAIL_ADDRESS} {d}",
    "DEBUG headers={{'Authorization': '{SECRET}'}} {d}",
    "ERROR connecting to postgres://app:{PWD}@db.internal:5432/app, {d}",
    "INFO using Server=db01;Database=orders;User Id=svc;Password={PWD}; {d}",
    "WARN retrying with key {SECRET} after {d}",
    "INFO payment card={CREDIT_CARD} status=declined {d}",
]


def _fill(gen: _Gen, template: str) -> Sample:
    b = _Builder()
    i = 0
    while i < len(template):
        j = template.find("{", i)
        if j < 0:
            b.add(template[i:])
            break
        if template[j : j + 2] == "{{":
            b.add(template[i : j + 1])
            i = j + 2
            continue
        k = template.index("}", j)
        b.add(template[i:j])
        slot = template[j + 1 : k]
        if slot == "d":
            b.add(gen.distractor())
        else:
            value, entity = gen.value(slot)
            b.add(value, entity)
        i = k + 1
    return b.sample()


def _tool_call(gen: _Gen) -> Sample:
    b = _Builder()
    b.add('{"name": "crm_update", "arguments": {"customer": "')
    value, entity = gen.value("PERSON")
    b.add(value, entity)
    for key, slot in (("email", "EMAIL_ADDRESS"), ("phone", "PHONE_NUMBER"), ("address", "LOCATION")):
        b.add(f'", "{key}": "')
        value, entity = gen.value(slot)
        b.add(json.dumps(value)[1:-1] if "\n" not in value else value.replace("\n", ", "), entity)
    b.add(f'", "note": "{gen.distractor()}"}}}}')
    return b.sample()


def generate(seed: int, n: int = 2000) -> list[Sample]:
    gen = _Gen(seed)
    out = []
    for i in range(n):
        kind = i % 4
        if kind == 3:
            out.append(_tool_call(gen))
        else:
            out.append(_fill(gen, gen.rng.choice(LOGS if kind == 2 else CHAT)))
    return out
