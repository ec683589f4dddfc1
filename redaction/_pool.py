"""Optional process pool: analysis of large batches on every core.

Only analysis runs in the workers (text in, findings out); policies, pseudonym keys and the
repeat cache stay in the parent. Workers are started with ``spawn`` because the parent is
multi-threaded (the collector's pipeline thread), where ``fork`` is unsafe.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from ._apply import Finding
from ._engine import Engine
from ._settings import RedactionSettings

_engine: Engine | None = None


def _init(settings_json: str) -> None:
    global _engine
    _engine = Engine(RedactionSettings.model_validate_json(settings_json))


def _work(jobs: list[tuple[str, frozenset[str]]]) -> list[list[Finding] | str]:
    assert _engine is not None  # set by the initializer
    # Exceptions travel as their type name only: their text might quote what was analysed.
    return [r if isinstance(r, list) else f"{type(r).__name__}" for r in _engine.analyze_batch(jobs)]


def _ping() -> bool:
    return _engine is not None


class AnalysisPool:
    def __init__(self, settings: RedactionSettings) -> None:
        self.workers = settings.pool_workers
        self._pool = ProcessPoolExecutor(
            max_workers=settings.pool_workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init,
            initargs=(settings.model_dump_json(),),
        )
        # Start the workers now so the first large batch does not pay for loading spaCy.
        for future in [self._pool.submit(_ping) for _ in range(settings.pool_workers)]:
            future.result()

    def analyze(self, jobs: list[tuple[str, frozenset[str]]]) -> list[list[Finding] | BaseException]:
        size = -(-len(jobs) // (self.workers * 2))
        chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
        out: list[list[Finding] | BaseException] = []
        for part in self._pool.map(_work, chunks):
            out.extend(r if isinstance(r, list) else RuntimeError(r) for r in part)
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
