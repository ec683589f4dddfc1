"""RetryPolicy: capped exponential backoff with full, decorrelated or no jitter."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector._retry import RetryPolicy


def _take(policy: RetryPolicy, n: int, seed: int = 1) -> list[float]:
    return list(itertools.islice(policy.delays(random.Random(seed)), n))


def test_no_jitter_is_capped_exponential() -> None:
    assert _take(RetryPolicy(0.1, 1.0, 2.0, "none"), 7) == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0])


@settings(max_examples=100, deadline=None)
@given(
    initial=st.floats(0.001, 5),
    ratio=st.floats(1, 100),
    multiplier=st.floats(1, 4),
    seed=st.integers(0, 2**32),
)
def test_jittered_delays_stay_in_bounds(initial: float, ratio: float, multiplier: float, seed: int) -> None:
    max_s = initial * ratio
    for n, delay in enumerate(_take(RetryPolicy(initial, max_s, multiplier, "full"), 30, seed)):
        assert 0 <= delay <= min(max_s, initial * multiplier**n) * (1 + 1e-9)
    for delay in _take(RetryPolicy(initial, max_s, multiplier, "decorrelated"), 30, seed):
        assert initial * (1 - 1e-9) <= delay <= max_s * (1 + 1e-9)


def test_full_jitter_spreads_and_grows() -> None:
    delays = _take(RetryPolicy(0.1, 100.0, 2.0, "full"), 2000, seed=7)
    early, late = delays[:5], delays[20:]
    assert max(early) <= 1.6
    assert sum(late) / len(late) == pytest.approx(50, rel=0.1)  # mean of uniform(0, cap)
    assert len({round(d, 6) for d in late}) > 1000  # real jitter, not a constant


def test_decorrelated_jitter_reaches_the_cap() -> None:
    delays = _take(RetryPolicy(0.1, 5.0, 3.0, "decorrelated"), 200, seed=3)
    assert max(delays) > 4.0
    assert min(delays) >= 0.1


@pytest.mark.parametrize(
    "kwargs",
    [{"initial_s": 0}, {"initial_s": 2, "max_s": 1}, {"multiplier": 0.5}, {"jitter": "some"}],
)
def test_bad_policy_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="RetryPolicy"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
