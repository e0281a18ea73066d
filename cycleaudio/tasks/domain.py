"""In-domain checks of conversion inputs: is a file like the data the model was trained FROM?

A generator fed something unlike its source domain turns out garbage without a word, so ``convert``
measures every input against statistics of the source domain that the checkpoint carries (each
task's ``domain_check`` module says which).  Every measure has a limit; an input's *domain distance*
is its largest measure / limit ratio: about 0 for a typical input, above 1 out of domain.  Inputs
above 1 are converted with a one-line warning naming what is off, or, with ``strict``, refused as
failures with that reason.  Models trained before a task saved the statistics a measure needs are
checked on the measures they can do, or not at all with one note.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..jobs import JobReport


@dataclass(frozen=True)
class Measure:
    """One way an input can differ from its domain: ``value`` against ``limit`` (same units, >= 0);
    ``problem`` says what is off in a few words, for the warning."""

    key: str
    value: float
    limit: float
    problem: str


@dataclass(frozen=True)
class DomainCheck:
    """The measures of one input."""

    measures: tuple[Measure, ...]

    @property
    def distance(self) -> float:
        """The largest value / limit ratio: above 1 means out of domain."""
        return max(m.value / m.limit for m in self.measures)

    @property
    def problems(self) -> list[str]:
        return [m.problem for m in self.measures if m.value > m.limit]

    def as_dict(self) -> dict[str, float | bool]:
        """What the job report keeps per input: distance, verdict and every measure."""
        return {"domain_distance": self.distance, "in_domain": not self.problems,
                **{m.key: m.value for m in self.measures}}


#: an input (analysed features, roll, image) -> its check; None when nothing could be measured
Checker = Callable[[Any], DomainCheck | None]


class DomainGate:
    """Applies a checker to every input of a convert job and keeps the outcome in the job's report.

    ``checker`` None means the model carries no statistics to check against (``missing`` says why),
    noted once in the report.
    """

    def __init__(self, report: JobReport, checker: Checker | None, strict: bool, missing: str = "") -> None:
        self.report, self.checker, self.strict = report, checker, strict
        if checker is None:
            report.notes.append(f"inputs not checked against the source domain: {missing}")

    def admit(self, path: Path, item: Any) -> bool:
        """Record ``item``'s check; False (and a failure) for an out-of-domain input under ``strict``."""
        check = self.checker(item) if self.checker is not None else None
        if check is None:
            return True
        self.report.domain[path] = check.as_dict()
        if not check.problems:
            return True
        reason = "out of domain: " + "; ".join(check.problems)
        if self.strict:
            self.report.failed.append((path, reason + " (refused by --strict)"))
            return False
        self.report.warnings.append((path, reason))
        return True
