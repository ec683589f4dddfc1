"""Build Presidio's analyzer offline and run it over batches of texts.

Only the recognizers a policy asks for run, and only when a cheap trigger says their entity can be
in the text (no '@', no email); spaCy runs once per batch through ``nlp.pipe`` with only the
tokenizer and NER enabled, and only on texts that have a capitalized word.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import time

# tldextract (used by the email recognizer) would fetch the public suffix list; it must be told not
# to before presidio is imported. Regex time-outs are kept short so a runaway built-in regex is
# noticed by the per-text budget (see Engine.analyze_batch) and the item fails closed.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("REGEX_TIMEOUT_SECONDS", "2")

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngineProvider
from presidio_analyzer.predefined_recognizers import (
    CryptoRecognizer,
    EmailRecognizer,
    IpRecognizer,
    MedicalLicenseRecognizer,
    NhsRecognizer,
    SpacyRecognizer,
    UsBankRecognizer,
    UsItinRecognizer,
    UsLicenseRecognizer,
    UsPassportRecognizer,
    UsSsnRecognizer,
)

from ._apply import Finding
from ._emails import slash_safe_email_recognizer
from ._numbers import AuditCardRecognizer, AuditIbanRecognizer, AuditPhoneRecognizer
from ._people_places import AuditLocationRecognizer, AuditPersonRecognizer
from ._secrets import SECRET_ENTITIES, secret_recognizers
from ._settings import RedactionSettings
from .errors import EngineError

log = logging.getLogger("redaction")
NER_ENTITIES = frozenset({"PERSON", "LOCATION", "NRP"})
_SECRET_TRIGGER = (
    r"sk-|sk_|rk_|pk_|AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA|eyJ|gh[pousr]_|github_pat|glpat-|xox|hooks\.slack|AIza"  # noqa: S105
    r"|hf_|(?i:bearer|basic|authorization|private key|://|passw|pwd|pass|secret|api.?key|token|aws)|[A-Za-z0-9/+]{40}"
)
# entity -> a regex that must match somewhere for the entity's recognizers to be worth running.
TRIGGERS: dict[str, re.Pattern[str]] = {
    "EMAIL_ADDRESS": re.compile("@"),
    "IP_ADDRESS": re.compile(r"\d\.\d|[0-9a-fA-F]:[0-9a-fA-F]|::"),
    "PHONE_NUMBER": re.compile(r"\d(?:\D{0,3}\d){6}"),
    "CREDIT_CARD": re.compile(r"\d(?:[ -]?\d){11}"),
    "IBAN_CODE": re.compile(r"[A-Z]{2}\d{2}"),
    "CRYPTO": re.compile(r"[13b][a-km-zA-HJ-NP-Z0-9]{25}"),
    "PERSON": re.compile(r"[A-Z][a-z]"),
    "LOCATION": re.compile(r"[A-Z][a-z]|\d"),
    "NRP": re.compile(r"[A-Z][a-z]"),
    **{entity: re.compile(_SECRET_TRIGGER) for entity in SECRET_ENTITIES},
}
_DIGITS = re.compile(r"\d(?:\D?\d){3}")
_SPACY_LABELS = {"PERSON": "PERSON", "PER": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION",
                 "NORP": "NRP"}  # fmt: skip


# spaCy labels no policy redacts; DATE_TIME in particular is mostly noise on agent traffic.
_SPACY_IGNORED = [
    "DATE",
    "TIME",
    "CARDINAL",
    "ORDINAL",
    "QUANTITY",
    "MONEY",
    "PERCENT",
    "ORG",
    "PRODUCT",
    "EVENT",
    "WORK_OF_ART",
    "LAW",
    "LANGUAGE",
]


def ner_model_available(model: str) -> bool:
    return importlib.util.find_spec(model) is not None


def _recognizers(use_ner: bool) -> list[EntityRecognizer]:
    found: list[EntityRecognizer] = [
        EmailRecognizer(), IpRecognizer(), CryptoRecognizer(), UsSsnRecognizer(), UsItinRecognizer(),
        UsPassportRecognizer(), UsBankRecognizer(), UsLicenseRecognizer(), MedicalLicenseRecognizer(),
        NhsRecognizer(), AuditCardRecognizer(), AuditIbanRecognizer(), AuditPhoneRecognizer(), AuditPersonRecognizer(),
        AuditLocationRecognizer(), slash_safe_email_recognizer(), *secret_recognizers(),
    ]  # fmt: skip
    if use_ner:
        found.append(SpacyRecognizer(supported_entities=["PERSON", "LOCATION", "NRP"]))
    return found


class Engine:
    """One analyzer (pattern recognizers, plus spaCy NER when active) and its batch driver."""

    def __init__(self, settings: RedactionSettings) -> None:
        self.settings = settings
        use_ner = settings.ner
        if use_ner and not ner_model_available(settings.spacy_model):
            log.warning(
                "redaction: NER is ON but the spaCy model %r is not installed: running PATTERN-ONLY, so "
                "names and addresses are found only by the shipped lists and patterns. Install the `ner` "
                "extra (requirements/ner.txt) or set REDACTION_NER=false to silence this.",
                settings.spacy_model,
            )
            use_ner = False
        self.ner_active = use_ner
        try:
            noop = NlpEngineProvider(
                nlp_configuration={
                    "nlp_engine_name": "no_op",
                    "models": [{"lang_code": "en", "model_name": "none"}],
                }
            ).create_engine()
            self._noop = noop
            self._spacy = None
            nlp_engine = noop
            if use_ner:
                self._spacy = NlpEngineProvider(nlp_configuration={
                    "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": settings.spacy_model}],
                    "ner_model_configuration": {"labels_to_ignore": _SPACY_IGNORED,
                                                "model_to_presidio_entity_mapping": _SPACY_LABELS},
                }).create_engine()  # fmt: skip
                # Tagger, parser and lemmatizer are not used by any recognizer here; NER needs tok2vec only.
                nlp = self._spacy.nlp["en"]  # type: ignore[attr-defined]
                nlp.disable_pipes(*[p for p in nlp.pipe_names if p not in ("tok2vec", "ner")])
                nlp_engine = self._spacy
            registry = RecognizerRegistry(supported_languages=["en"])
            for recognizer in _recognizers(use_ner):
                registry.add_recognizer(recognizer)
            self.analyzer = AnalyzerEngine(
                registry=registry,
                nlp_engine=nlp_engine,
                supported_languages=["en"],
                default_score_threshold=0.0,
            )
        except Exception as exc:
            raise EngineError(f"cannot build the Presidio analyzer: {type(exc).__name__}") from exc
        self.supported = frozenset(self.analyzer.get_supported_entities(language="en"))

    def analyze_batch(self, jobs: list[tuple[str, frozenset[str]]]) -> list[list[Finding] | BaseException]:
        """Findings for each (text, wanted entities); an exception in place of a text that failed."""
        wanted = [self._needed(text, entities) for text, entities in jobs]
        artifacts: dict[int, NlpArtifacts] = {}
        ner_idx = [i for i, need in enumerate(wanted) if need & NER_ENTITIES]
        if self._spacy is not None and ner_idx:
            try:
                texts = [jobs[i][0] for i in ner_idx]
                for i, (_, art) in zip(ner_idx, self._spacy.process_batch(texts, "en", batch_size=64), strict=True):
                    artifacts[i] = art
            except Exception as exc:  # noqa: BLE001 - every text of the failed NER batch fails closed
                return [exc if i in set(ner_idx) else self._one(jobs[i][0], wanted[i], None) for i in range(len(jobs))]
        return [self._one(jobs[i][0], wanted[i], artifacts.get(i)) for i in range(len(jobs))]

    def _needed(self, text: str, entities: frozenset[str]) -> frozenset[str]:
        return frozenset(
            e
            for e in entities & self.supported
            if ((t := TRIGGERS.get(e)) is None and _DIGITS.search(text)) or (t is not None and t.search(text))
        )

    def _one(self, text: str, entities: frozenset[str], art: NlpArtifacts | None) -> list[Finding] | BaseException:
        if not entities:
            return []
        started = time.monotonic()
        try:
            results = self.analyzer.analyze(
                text=text, language="en", entities=sorted(entities), score_threshold=0.0,
                nlp_artifacts=art or self._noop.process_text(text, "en"),
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - reported per text; the caller fails the item closed
            return exc
        if time.monotonic() - started >= self.settings.text_timeout_s:
            # Presidio skips a regex that times out (fails open); a text this slow may have lost
            # findings that way, so it is treated as failed.
            return TimeoutError("analysis exceeded text_timeout_s")
        return [Finding(r.start, r.end, r.entity_type, r.score) for r in results]
