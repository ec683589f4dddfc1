"""Fixtures of the durability tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from collector._spool import Spool, SpoolConfig


@pytest.fixture
def open_spool(tmp_path: Path) -> Iterator[Callable[..., Spool]]:
    """Opens spools on tmp_path/spool (kwargs go to SpoolConfig) and closes whatever is left open."""
    opened: list[Spool] = []

    def factory(**kwargs: object) -> Spool:
        kwargs.setdefault("fsync", "never")
        spool = Spool(SpoolConfig(tmp_path / "spool", **kwargs))  # type: ignore[arg-type]
        opened.append(spool)
        return spool

    yield factory
    for spool in opened:
        spool.close()
