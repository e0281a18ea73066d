"""Writing a file so that readers only ever see a whole one.

Every writer in the project (audio, MIDI, feature caches, checkpoints, exports) writes to a temporary
file beside the target and renames it into place: a crash never leaves half a file, and two processes
writing the same file at once (two trainings filling one shared cache) each rename a whole file of
their own instead of one renaming away the other's temporary file.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def replaced_atomically(target: Path, keep_suffix: bool = False) -> Iterator[Path]:
    """Yield a temporary path of this process beside ``target``; rename it onto ``target`` when the
    block ends without error, delete it when the block fails (``target`` is then left as it was).

    The name starts with a dot and does not end in the target's extension, so folder scans for
    ``*.wav`` or ``*.mid`` never pick up a file being written; ``keep_suffix`` keeps the extension
    last, for writers that would otherwise append it (numpy's ``save``/``savez``).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tail = f".{os.getpid()}.tmp"
    name = f".{target.stem}{tail}{target.suffix}" if keep_suffix else f".{target.name}{tail}"
    tmp = target.with_name(name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
