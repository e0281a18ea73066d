"""User-facing errors.

Anything a user can cause (a bad recipe, a broken input file, a missing checkpoint) is raised as a
:class:`CycleAudioError`; the CLI prints its message on one line and exits non-zero instead of showing a
traceback.  Programming errors stay ordinary exceptions so they are not hidden.
"""

from __future__ import annotations

from pathlib import Path


class CycleAudioError(Exception):
    """An error caused by the user's input, reported as one line."""


class RecipeError(CycleAudioError):
    """A recipe is malformed: unknown key, wrong type or bad value."""


class InputFileError(CycleAudioError):
    """One input file cannot be used; the message names the file and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")

    def __reduce__(self) -> tuple:
        # keeps the error picklable, so worker processes can report it back
        return (type(self), (self.path, self.reason))
