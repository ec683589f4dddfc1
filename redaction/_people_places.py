"""PERSON and LOCATION recognizers from shipped lists and context, to complement spaCy's small model.

The small model finds ~0.7 of names and fewer places; these add what a reader relies on: a title
(Dr, Ms), a phrase ("my name is", "lives in"), a given name followed by a family name from the
lists, a street number followed by a street suffix, a postcode, a known city or country.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from presidio_analyzer import LocalRecognizer, RecognizerResult

DATA = Path(__file__).parent / "data"
_CAP = r"[A-Z][a-zA-Z'’]+(?:-[A-Z][a-zA-Z'’]+)?"
_TITLE = re.compile(
    rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Madam|Mme|Herr|Frau)\.?\s+(?P<n>{_CAP}(?:\s+{_CAP}){{0,2}})"
)
_INTRO = re.compile(
    rf"(?i:\b(?:my name is|my name's|name:|i am|i'm|this is|dear|hi|hello|thanks|thank you|regards,|cheers,"
    rf"|sincerely,|signed|contact|ask|cc|assigned to|customer|user|patient|employee|manager)\s*,?\s+)"
    rf"(?P<n>{_CAP}(?:\s+{_CAP}){{0,2}})"
)
_CAPSEQ = re.compile(rf"\b{_CAP}(?:[ ]+{_CAP}){{0,3}}")
_POSTCODE_UK = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b")
_CITY_STATE_ZIP = re.compile(rf"\b{_CAP}(?:\s{_CAP}){{0,2}},\s[A-Z]{{2}}\s\d{{5}}(?:-\d{{4}})?\b")
_PLACE_INTRO = re.compile(
    rf"(?i:\b(?:(?P<s>live|lives|living|lived|based|located|moved|relocated|born|reside|resides|visit|visiting"
    rf"|address is|address:|ship|deliver|shipped|delivered)(?:\s+(?:in|at|to|near|on|from))?|from|in|to|at|near)\s+)"
    rf"(?P<n>{_CAP}(?:\s+{_CAP}){{0,2}})"
)
_STOP_AFTER_INTRO = {
    "I",
    "The",
    "A",
    "An",
    "We",
    "You",
    "It",
    "This",
    "That",
    "Please",
    "Thanks",
    "Yes",
    "No",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Python",
    "JSON",
    "API",
    "Team",
    "All",
    "There",
    "Here",
    "Sure",
}


@cache
def _words(name: str) -> frozenset[str]:
    return frozenset((DATA / name).read_text(encoding="utf-8").split("\n")) - {""}


@cache
def _address_re() -> re.Pattern[str]:
    suffixes = "|".join(sorted(_words("street_suffixes.txt"), key=len, reverse=True))
    word = r"[A-Z][a-zA-Z'’.-]+"
    return re.compile(
        rf"\b\d{{1,6}}[A-Za-z]?,?\s+(?:(?:{word}\s+){{1,3}}(?i:{suffixes})|(?:{word}\s+){{0,3}}(?:{suffixes}))\b\.?"
        rf"(?:,?\s+(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Floor|#)\s*[\w-]+)?"
        rf"(?:,?\s*\n?\s*{word}(?:\s{word}){{0,2}},?\s+(?:[A-Z]{{2}}\s+\d{{5}}(?:-\d{{4}})?|[A-Z]{{1,2}}\d[A-Z\d]?\s?\d[A-Z]{{2}}|\d{{5}}))?"
    )


def _res(entity: str, start: int, end: int, score: float, name: str) -> RecognizerResult:
    return RecognizerResult(
        entity, start, end, score, recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: name}
    )


def _is_name(words: list[str]) -> bool:
    given, family = _words("given_names.txt"), _words("family_names.txt")
    return words[0] in given and all(
        w in family or w in given or all(p in family for p in w.split("-")) for w in words[1:]
    )


class AuditPersonRecognizer(LocalRecognizer):
    """Names after a title or an introduction, and given+family pairs from the shipped lists."""

    _rname = "audit_person"

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="audit_person", supported_language="en")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        out = []
        for m in _TITLE.finditer(text):
            out.append(_res("PERSON", *m.span("n"), 0.85, self._rname))
        for m in _INTRO.finditer(text):
            words = m.group("n").split()
            while words and words[-1] in _STOP_AFTER_INTRO:
                words.pop()
            if (
                words
                and words[0] not in _STOP_AFTER_INTRO
                and (words[0] in _words("given_names.txt") or len(words) > 1)
            ):
                end = m.start("n") + len(" ".join(words)) if len(words) > 1 else m.start("n") + len(words[0])
                out.append(_res("PERSON", m.start("n"), end, 0.75, self._rname))
        for m in _CAPSEQ.finditer(text):
            words = m.group().split()
            for i in range(len(words) - 1):
                for j in (3, 2):
                    if i + j <= len(words) and _is_name(words[i : i + j]):
                        start = m.start() + len(" ".join(words[:i])) + (1 if i else 0)
                        out.append(_res("PERSON", start, start + len(" ".join(words[i : i + j])), 0.8, self._rname))
                        break
        return out


class AuditLocationRecognizer(LocalRecognizer):
    """Street addresses, postcodes, "City, ST 12345", known places, and places after "lives in"."""

    _rname = "audit_location"

    def __init__(self) -> None:
        super().__init__(supported_entities=["LOCATION"], name="audit_location", supported_language="en")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        out = [_res("LOCATION", *m.span(), 0.9, self._rname) for m in _address_re().finditer(text)]
        out += [_res("LOCATION", *m.span(), 0.85, self._rname) for m in _CITY_STATE_ZIP.finditer(text)]
        out += [
            _res("LOCATION", *m.span(), 0.6, self._rname)
            for m in _POSTCODE_UK.finditer(text)
            if any(c.isdigit() for c in m.group()[:3])
        ]
        places, given = _words("places.txt"), _words("given_names.txt")
        for m in _CAPSEQ.finditer(text):
            words, base = m.group().split(" "), m.start()
            i = 0
            while i < len(words):
                for j in (3, 2, 1):
                    cand = " ".join(words[i : i + j])
                    if i + j <= len(words) and cand in places:
                        start = base + len(" ".join(words[:i])) + (1 if i else 0)
                        # A place that is also a given name (Georgia, Florence) needs a place phrase.
                        score = 0.55 if cand in given else 0.75
                        out.append(_res("LOCATION", start, start + len(cand), score, self._rname))
                        i += j - 1
                        break
                i += 1
        for m in _PLACE_INTRO.finditer(text):
            words = m.group("n").split()
            while words and words[-1] in _STOP_AFTER_INTRO:
                words.pop()
            if not words or words[0] in _STOP_AFTER_INTRO:
                continue
            cand = " ".join(words)
            strong = m.group("s") is not None
            if strong or cand in places or cand.split()[0] in places:
                out.append(_res("LOCATION", m.start("n"), m.start("n") + len(cand), 0.8, self._rname))
        return out
