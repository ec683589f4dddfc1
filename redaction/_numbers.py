"""Recognizers for numbers with a checksum or a known shape: payment cards, IBANs and phone numbers.

Presidio's built-ins miss Mastercard 2-series and 19-digit cards, and only try eight phone
regions; these replace them. Every regex here is linear (no nested quantifiers), and the hard
decisions are made in Python after the match, where they are cheap and testable.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from presidio_analyzer import LocalRecognizer, RecognizerResult

# ISO 13616 registry: country code -> IBAN length. Codes outside it still pass with a mod-97 check
# at a lower score, so a new country is not silently missed.
IBAN_LENGTHS = dict(
    (code, int(n))
    for code, n in (
        item.split(":")
        for item in [
            "AD:24",
            "AE:23",
            "AL:28",
            "AT:20",
            "AZ:28",
            "BA:20",
            "BE:16",
            "BG:22",
            "BH:22",
            "BI:27",
            "BR:29",
            "BY:28",
            "CH:21",
            "CR:22",
            "CY:28",
            "CZ:24",
            "DE:22",
            "DJ:27",
            "DK:18",
            "DO:28",
            "EE:20",
            "EG:29",
            "ES:24",
            "FI:18",
            "FK:18",
            "FO:18",
            "FR:27",
            "GB:22",
            "GE:22",
            "GI:23",
            "GL:18",
            "GR:27",
            "GT:28",
            "HN:28",
            "HR:21",
            "HU:28",
            "IE:22",
            "IL:23",
            "IQ:23",
            "IS:26",
            "IT:27",
            "JO:30",
            "KW:30",
            "KZ:20",
            "LB:28",
            "LC:32",
            "LI:21",
            "LT:20",
            "LU:20",
            "LV:21",
            "LY:25",
            "MC:27",
            "MD:24",
            "ME:22",
            "MK:19",
            "MN:20",
            "MR:27",
            "MT:31",
            "MU:30",
            "NI:28",
            "NL:18",
            "NO:15",
            "OM:23",
            "PK:24",
            "PL:28",
            "PS:29",
            "QA:29",
            "RO:24",
            "RS:22",
            "RU:33",
            "SA:24",
            "SC:31",
            "SD:18",
            "SE:24",
            "SI:19",
            "SK:24",
            "SM:27",
            "SO:23",
            "ST:25",
            "SV:28",
            "TL:23",
            "TN:24",
            "TR:26",
            "UA:29",
            "VA:22",
            "VG:24",
            "XK:20",
            "YE:30",
            "AO:25",
            "BF:28",
            "BJ:28",
            "CF:27",
            "CG:27",
            "CI:28",
            "CM:27",
            "CV:25",
            "DZ:26",
            "GA:27",
            "GQ:27",
            "GW:25",
            "IR:26",
            "KM:27",
            "MA:28",
            "MG:27",
            "ML:28",
            "MZ:25",
            "NE:28",
            "SN:28",
            "TD:27",
            "TG:28",
        ]
    )
)
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?=[ -]?[A-Z0-9])")
# Not inside a longer number: after a digit, or a digit and a decimal point (0.4111... is a
# float). After a comma it is a card (a CSV field, "1001,4111..."), after a word and a dot too.
_CARD = re.compile(r"(?<![\d/-])(?<!\d\.)\d(?:[ -]?\d){11,18}(?![\d])")
_PHONE = re.compile(
    r"(?<![\w+/.:#-])(?:\+|00)?\(?\d[\d ().-]{5,22}\d(?:[ ]?(?:x|ext\.?|extension)[ ]?\d{1,6})?(?![\w@.-]\w)"
)
# A number in a phone URI (tel:, sms:, a WhatsApp link) is a phone by what it is written in, and
# the ':' or '/' before it keeps _PHONE from seeing it: "[Call us](tel:+14155550132)".
_PHONE_URI = re.compile(
    r"(?i)(?:(?<![\w.+-])(?:tel|sms|smsto|mms|callto|facetime|facetime-audio|whatsapp|viber|skype):(?://)?"
    r"|(?<![\w.-])wa\.me/)(?P<number>\+?\d[\d().-]{5,22}\d)(?![\d\w])"
)
_PHONE_CONTEXT = re.compile(
    r"(?i)\b(?:phone|tel|telephone|mobile|cell|call|called|calling|fax|whatsapp|sms|text me|ring|number|reach|contact)\b"  # noqa: E501
)
_DATE_LIKE = re.compile(r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$")
_EXT = re.compile(r"[ ]?(?:x|ext\.?|extension)[ ]?\d{1,6}$")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_brand(digits: str) -> str | None:
    """The brand whose IIN range and length fit, or None. Unbranded Luhn-valid runs are too common."""
    n, p2, p4 = len(digits), int(digits[:2]), int(digits[:4])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if (digits.startswith("6011") or p2 == 65 or 644 <= int(digits[:3]) <= 649) and 16 <= n <= 19:
        return "discover"
    if (p2 == 35 and 16 <= n <= 19) or (p4 in (2131, 1800) and n == 15):
        return "jcb"
    if (p2 in (36, 38, 39) or 300 <= int(digits[:3]) <= 305 or p4 == 3095) and 14 <= n <= 19:
        return "diners"
    if p2 == 62 and 16 <= n <= 19:
        return "unionpay"
    if (p2 == 50 or 56 <= p2 <= 69 or p4 in (6304, 6759, 6761, 6762, 6763, 604)) and 12 <= n <= 19:
        return "maestro"
    if 2200 <= p4 <= 2204 and n == 16:
        return "mir"
    return None


def iban_ok(compact: str) -> bool:
    rearranged = compact[4:] + compact[:4]
    try:
        return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1
    except ValueError:
        return False


def _result(entity: str, start: int, end: int, score: float, name: str) -> RecognizerResult:
    return RecognizerResult(
        entity_type=entity,
        start=start,
        end=end,
        score=score,
        recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: name},
    )


class AuditCardRecognizer(LocalRecognizer):
    """Payment cards of every major brand, 12-19 digits, grouped or not, Luhn-checked."""

    _rname = "audit_card"

    def __init__(self) -> None:
        super().__init__(supported_entities=["CREDIT_CARD"], name="audit_card", supported_language="en")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        out = []
        for m in _CARD.finditer(text):
            span = m.group()
            # Try the whole run, then shorter prefixes ending at a separator (a card followed by a year).
            cuts = [len(span)] + [i for i in range(len(span) - 1, 11, -1) if span[i] in " -"]
            for cut in cuts:
                digits = re.sub(r"\D", "", span[:cut])
                if 12 <= len(digits) <= 19 and luhn_ok(digits) and card_brand(digits):
                    out.append(_result("CREDIT_CARD", m.start(), m.start() + cut, 1.0, self._rname))
                    break
        return out


class AuditIbanRecognizer(LocalRecognizer):
    """IBANs of all countries: length from the registry, mod-97 checksum, spaces or dashes allowed."""

    _rname = "audit_iban"

    def __init__(self) -> None:
        super().__init__(supported_entities=["IBAN_CODE"], name="audit_iban", supported_language="en")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        out = []
        for m in _IBAN_START.finditer(text):
            country = m.group()[:2]
            want = IBAN_LENGTHS.get(country)
            lengths = [want] if want else list(range(34, 14, -1))
            for length in lengths:
                compact: list[str] = []
                i = m.start()
                while i < len(text) and len(compact) < length:
                    ch = text[i]
                    if ch.isascii() and (ch.isupper() or ch.isdigit()):
                        compact.append(ch)
                    elif ch not in " -" or i + 1 >= len(text) or not text[i + 1].isalnum():
                        break
                    i += 1
                at_boundary = i >= len(text) or not text[i].isalnum()
                if len(compact) == length and at_boundary and iban_ok("".join(compact)):
                    out.append(_result("IBAN_CODE", m.start(), i, 1.0 if want else 0.8, self._rname))
                    break
        return out


class AuditPhoneRecognizer(LocalRecognizer):
    """Phone numbers in national and international formats, with extensions.

    A bare run of digits is only a phone when it fits the North American plan or a phone word is
    near; dates, IPs, versions and epoch timestamps are rejected by shape.
    """

    _rname = "audit_phone"

    def __init__(self) -> None:
        super().__init__(supported_entities=["PHONE_NUMBER"], name="audit_phone", supported_language="en")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        out = []
        for m in _PHONE.finditer(text):
            start, span = m.start(), m.group()
            span = span.rstrip(" (.-")
            if span.count("(") != span.count(")"):
                if span.startswith("(") and ")" not in span:
                    continue
                span = span[: span.rfind("(")].rstrip(" .-") if span.count("(") > span.count(")") else span
            if not span or span.startswith(")"):
                continue
            score = self._score(span, text, start)
            if score:
                out.append(_result("PHONE_NUMBER", start, start + len(span), score, self._rname))
        for m in _PHONE_URI.finditer(text):
            if 7 <= sum(ch.isdigit() for ch in m["number"]) <= 15:
                out.append(_result("PHONE_NUMBER", m.start("number"), m.end("number"), 0.9, self._rname))
        return out

    def _score(self, span: str, text: str, start: int) -> float:
        main = _EXT.sub("", span)
        digits = re.sub(r"\D", "", main)
        if not 7 <= len(digits) <= 15 or "  " in main or _DATE_LIKE.match(main):
            return 0.0
        groups = [g for g in re.split(r"[^\d]+", main) if g]
        seps = set(re.sub(r"[\d+]", "", main))
        near = _PHONE_CONTEXT.search(text, max(0, start - 60), start) is not None
        if main.startswith(("+", "00")):
            try:
                number = phonenumbers.parse("+" + main.lstrip("+")[2 if main.startswith("00") else 0 :])
            except phonenumbers.NumberParseException:
                return 0.7 if near else 0.0
            return 0.9 if phonenumbers.is_possible_number(number) or len(digits) >= 10 or near else 0.0
        # Versions and IPs use dots too: only the 3-3-4 and 2-2-2-2-2 phone shapes are phones.
        if seps == {"."} and [len(g) for g in groups] not in ([3, 3, 4], [2, 2, 2, 2, 2]) and not near:
            return 0.0
        if not seps:
            nanp = len(digits) == 10 and digits[0] in "23456789" and digits[3] in "23456789"
            nanp1 = len(digits) == 11 and digits[0] == "1" and digits[1] in "23456789"
            # National format with trunk prefix 0 (UK, FR, NL, DE ...); epoch seconds start with 1.
            trunk = len(digits) in (10, 11) and digits.startswith("0") and digits[1] != "0"
            return 0.75 if nanp or nanp1 or trunk or (near and len(digits) >= 8) else 0.0
        if len(digits) < 9 and not near:
            return 0.0
        if max(len(g) for g in groups) > 8:
            return 0.0
        return 0.85
