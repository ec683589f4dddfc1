"""Build the name and place lists shipped in ``redaction/data`` (run by hand; needs Faker).

    python -m redaction._gazetteer_build

Sources: Faker's person providers of a fixed set of locales (common given and family names),
Faker's country and US-state lists, German city list, and the city part of the IANA time-zone
names (the world's large cities). The evaluation set draws some names from *other* locales so
that it measures what the lists do not cover (see bench/redaction_eval.py).
"""

from __future__ import annotations

import importlib
import zoneinfo
from pathlib import Path

NAME_LOCALES = ("en_US", "en_GB", "en_IE", "en_IN", "de_DE", "fr_FR", "es_ES", "it_IT")
DATA = Path(__file__).parent / "data"
# Capitalized words that are far more often ordinary words than names in English prose.
COMMON_WORDS = set(
    (  # noqa: SIM905 - a readable block of words
        "May June April August Will Bill Mark Rose Grace Hope Joy Faith Summer Autumn Dawn Page Read "
        "Lane Long Young Price Green Brown White Black Rich Grant Hunter Bishop Cook Ward Hill Wood "
        "Stone Rice Frank Sterling Major Case Cross Day Love Little King Bell Chase Field Fields Gay "
        "Holiday Justice Hall Park Way Sun Moon Star Key Post Banks Church Chance Christian Golden Guy "
        "Hero Lord Person Navy Sky Storm Victory Honor Noble Pierce Ray Rock Ross Say Share Short Sharp "
        "Small Strong Swift Sweet Tate Trim Via Vance Walker Wise Worth Don Art Bob Sean Patch Miles Max "
        "Jack Ken Gene Norm "
    ).split()
)


def _attr(module: str, name: str) -> list[str]:
    provider = importlib.import_module(f"faker.providers.{module}").Provider
    value = getattr(provider, name, ())
    return list(value.keys() if isinstance(value, dict) else value)


def build() -> None:
    given: set[str] = set()
    family: set[str] = set()
    for loc in NAME_LOCALES:
        for attr in ("first_names", "first_names_male", "first_names_female"):
            given.update(_attr(f"person.{loc}", attr))
        family.update(_attr(f"person.{loc}", "last_names"))
    places: set[str] = set(_attr("address.en", "countries")) | set(_attr("address.en_US", "states"))
    places |= set(_attr("address.de_DE", "cities"))
    for tz in zoneinfo.available_timezones():
        if "/" in tz and not tz.startswith(("Etc/", "SystemV/", "US/")):
            places.add(tz.rsplit("/", 1)[1].replace("_", " "))
    suffixes = set(_attr("address.en_US", "street_suffixes")) | set(_attr("address.en_GB", "street_suffixes"))
    suffixes |= {
        "Street",
        "St",
        "Road",
        "Rd",
        "Avenue",
        "Ave",
        "Boulevard",
        "Blvd",
        "Drive",
        "Dr",
        "Lane",
        "Ln",
        "Court",
        "Ct",
        "Place",
        "Pl",
        "Terrace",
        "Way",
        "Close",
        "Crescent",
        "Square",
        "Highway",
        "Hwy",
        "Parkway",
        "Pkwy",
        "Mews",
        "Row",
        "Gardens",
        "Strasse",
        "Straße",
        "Weg",
        "Allee",
        "Platz",
    }
    clean = {s.strip().title() for s in suffixes if s.strip().isalpha() or "ß" in s}
    DATA.mkdir(exist_ok=True)
    _write("given_names.txt", {n for n in given if n.isalpha() and n not in COMMON_WORDS and len(n) > 1})
    _write(
        "family_names.txt",
        {n for n in family if n.replace("-", "").replace("'", "").isalpha() and n not in COMMON_WORDS and len(n) > 1},
    )
    _write("places.txt", {p for p in places if len(p) > 2 and p[0].isupper()})
    _write("street_suffixes.txt", clean)


def _write(name: str, items: set[str]) -> None:
    (DATA / name).write_text("\n".join(sorted(items)) + "\n", encoding="utf-8")
    print(f"{name}: {len(items)}")


if __name__ == "__main__":
    build()
