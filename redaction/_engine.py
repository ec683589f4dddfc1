"""Build Presidio's analyzer and anonymizer offline, with NER when the model is installed."""

from __future__ import annotations

import importlib.util
import logging
import os

# The email recognizer's tldextract otherwise fetches the public suffix list at first use and
# can hang offline; this must be set before presidio is imported.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry  # noqa: E402
from presidio_analyzer.nlp_engine import NlpEngineProvider  # noqa: E402

from ._secrets import secret_recognizers  # noqa: E402
from ._settings import RedactionSettings  # noqa: E402
from .errors import EngineError  # noqa: E402

log = logging.getLogger("redaction")


def ner_model_available(model: str) -> bool:
    return importlib.util.find_spec(model) is not None


def build_analyzer(settings: RedactionSettings) -> tuple[AnalyzerEngine, bool]:
    """Return the analyzer and whether NER is active.

    A configured but missing model is said loudly once, then the engine runs pattern-only:
    the product never silently pretends to find names it cannot find.
    """
    use_ner = settings.ner
    if use_ner and not ner_model_available(settings.spacy_model):
        log.warning(
            "redaction: NER is on but the spaCy model %r is not installed; running PATTERN-ONLY "
            "(names and addresses will NOT be redacted). Install the `ner` extra to fix this.",
            settings.spacy_model,
        )
        use_ner = False
    try:
        if use_ner:
            config = {
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": "en", "model_name": settings.spacy_model}],
                "ner_model_configuration": {
                    "labels_to_ignore": ["DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT"],
                },
            }
        else:
            config = {"nlp_engine_name": "no_op", "models": [{"lang_code": "en", "model_name": "none"}]}
        nlp_engine = NlpEngineProvider(nlp_configuration=config).create_engine()
        registry = RecognizerRegistry(supported_languages=["en"])
        registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
        for recognizer in secret_recognizers():
            registry.add_recognizer(recognizer)
        analyzer = AnalyzerEngine(
            registry=registry, nlp_engine=nlp_engine, supported_languages=["en"], default_score_threshold=0.0
        )
    except Exception as exc:
        raise EngineError(f"cannot build the Presidio analyzer: {type(exc).__name__}: {exc}") from exc
    return analyzer, use_ner
