"""What every adapter shares: the job it reports to, and how a metric becomes a float."""

from __future__ import annotations

from typing import Any, Optional, Protocol


class ReportingJob(Protocol):
    """What an adapter needs of a job: :class:`hyperband.Job`, or anything with these two
    methods (a test's fake job, say)."""

    def report(self, value: float, step: float) -> None: ...

    def should_stop(self) -> bool: ...


def as_float(value: Any, what: str) -> float:
    """A framework's metric as a float: a Python or NumPy number, a 0-d tensor or array."""
    item = getattr(value, "item", None)
    if callable(item):
        value = item()
    try:
        return float(value)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what} is {value!r}, which is not a number") from e


class Reporter:
    """Reports to a job and remembers what it reported.

    ``stopped`` turns True once the job said stop (``job.should_stop()``: at a rung the trial
    was not promoted from, or once it reached its budget, the max budget in stop mode); the
    objective can return ``last_value`` (the value reported last, at step ``last_step``) as
    its result.
    A step no greater than the last one reported is not reported again (a second evaluation
    in one epoch, or an evaluation after training), nor is anything once the job said stop.
    """

    def __init__(self, job: ReportingJob) -> None:
        self.job = job
        self.stopped = False
        self.last_step: Optional[float] = None
        self.last_value: Optional[float] = None

    def _report(self, value: float, step: float) -> bool:
        """Reports value at step; True when training must stop."""
        if self.stopped:
            return True
        if self.last_step is not None and step <= self.last_step:
            return False
        self.job.report(value, step)
        self.last_step = step
        self.last_value = value
        if self.job.should_stop():
            self.stopped = True
        return self.stopped
