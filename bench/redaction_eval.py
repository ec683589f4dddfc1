"""Recall and precision per entity type on the seeded evaluation set, pattern-only and with NER.

    python bench/redaction_eval.py [--seed 20250611] [--n 2000]

The reported seed is held out: recognizers were developed against seed 1 and hand-written cases.
A gold span counts as found when >= 80% of its characters are covered by findings of the same
type; a finding counts as correct when it overlaps a gold span of the same type. "any-type"
figures ignore the label (what matters for privacy: was the character hidden?).
"""

from __future__ import annotations

import argparse
import logging
import time
from collections import Counter

from redaction import RedactionSettings, Redactor
from redaction._evalset import Sample, generate

GROUP = {"PERSON_OOV": "PERSON"}


def evaluate(r: Redactor, samples: list[Sample]) -> None:
    started = time.perf_counter()
    found = r.find_many([s.text for s in samples])
    took = time.perf_counter() - started
    tp, fn, fp, pred_ok = Counter[str](), Counter[str](), Counter[str](), Counter[str]()
    any_tp = any_total = 0
    for sample, findings in zip(samples, found, strict=True):
        for start, end, entity in sample.spans:
            label = GROUP.get(entity, entity)
            same = sum(max(0, min(end, f.end) - max(start, f.start)) for f in findings if f.entity == label)
            anyt = sum(max(0, min(end, f.end) - max(start, f.start)) for f in findings)
            (tp if same >= 0.8 * (end - start) else fn)[entity] += 1
            any_total += 1
            any_tp += anyt >= 0.8 * (end - start)
        for f in findings:
            ok = any(GROUP.get(e, e) == f.entity and f.start < end and start < f.end for start, end, e in sample.spans)
            (pred_ok if ok else fp)[f.entity] += 1
    print(f"  {'entity':<14} {'recall':>7} {'precision':>9} {'gold':>6} {'found':>6}")
    for entity in sorted(set(tp) | set(fn) | set(fp)):
        gold = tp[entity] + fn[entity]
        pred = pred_ok[entity] + fp[entity]
        recall = f"{tp[entity] / gold:.3f}" if gold else "-"
        precision = f"{pred_ok[entity] / pred:.3f}" if pred and entity not in GROUP else "-"
        print(f"  {entity:<14} {recall:>7} {precision:>9} {gold:>6} {pred:>6}")
    gold_all, pred_all = sum(tp.values()) + sum(fn.values()), sum(pred_ok.values()) + sum(fp.values())
    print(
        f"  {'OVERALL':<14} {sum(tp.values()) / gold_all:>7.3f} {sum(pred_ok.values()) / pred_all:>9.3f}"
        f" {gold_all:>6} {pred_all:>6}   any-type recall {any_tp / any_total:.3f}   ({len(samples) / took:.0f} texts/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=20250611, help="held-out seed of the reported figures")
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    samples = generate(args.seed, args.n)
    print(f"evaluation set: seed {args.seed}, {len(samples)} samples, {sum(len(s.spans) for s in samples)} spans")
    for ner in (False, True):
        r = Redactor(RedactionSettings(ner=ner, cache_size=0))
        print(f"\n{'NER (spaCy small + lists + context)' if r.ner_active else 'pattern-only (lists + context)'}:")
        evaluate(r, samples)


if __name__ == "__main__":
    main()
