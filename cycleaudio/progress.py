"""Progress bars for every long job, with one switch to silence them all (``--quiet``).

``tqdm.auto`` draws notebook widgets in Jupyter and text bars in a terminal.  Modules call
:func:`tqdm` from here instead of tqdm's own, so ``set_quiet(True)`` silences every bar, worker
processes forked afterwards included.
"""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm as _tqdm

_quiet = False


def set_quiet(quiet: bool) -> None:
    global _quiet
    _quiet = quiet


def tqdm(*args: Any, **kwargs: Any) -> Any:
    """A tqdm bar, disabled while quiet."""
    if _quiet:
        kwargs["disable"] = True
    return _tqdm(*args, **kwargs)


tqdm.write = _tqdm.write  # type: ignore[attr-defined]
