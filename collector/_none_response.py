"""Keep AutoGen's "on_response returned None" warning quiet for our hook.

autogen-core warns whenever an intervention handler's on_response returns None, but None is the
original response of every message handler that returns nothing, and the hook must hand back the
original unchanged.
"""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["installed_filter", "silence_none_response_warning"]


def _install_none_response_filter() -> tuple[Any, ...]:
    warnings.filterwarnings(
        "ignore",
        message="Intervention handler on_response returned None",
        category=RuntimeWarning,
    )
    return warnings.filters[0]  # the entry just inserted


# The filter entry we installed last, in a one-element list: the hook's on_response closure holds
# the list and compares ``warnings.filters[0]`` with its item inline, without a call.
installed_filter: list[tuple[Any, ...]] = [_install_none_response_filter()]


def silence_none_response_warning() -> None:
    """Re-install the filter when it is no longer first: test runners and apps replace or reset the
    filter list. Installing costs ~10 us (it invalidates the warnings cache), so it is done only then,
    not on every None response."""
    filters = warnings.filters
    if not filters or filters[0] is not installed_filter[0]:
        installed_filter[0] = _install_none_response_filter()
