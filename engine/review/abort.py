"""After how many failures a job's abort criteria cancel it (DESIGN.md section 11). Pure.

An abort criterion trips once at least ``minNumberOfExecutedThings`` things have executed
(reached an end: succeeded, failed, rejected, timed out, removed or canceled) and the
failures of its ``failureType`` are at least ``thresholdPercentage`` of those executed
("the minimum percentage of job execution failures that must occur to initiate the job
abort", https://docs.aws.amazon.com/iot/latest/apireference/API_AbortCriteria.html).
``ALL`` counts failed, rejected and timed out together. The criterion is taken to be
checked after every execution that ends; executions already notified when it trips may
still fail after it.

With p the threshold, m the minimum executed and R the reach (R >= m):

- ``after_failures`` (the "at most" of "620 of 12,400 at most"): N = ceil(p·R), of R
  executed. N failures always cancel the job: when the N-th comes, at n <= R executed,
  they are at least p·R >= p·n, so it trips then (or earlier), or, if fewer than m have
  executed by then, at the m-th execution. N - 1 failures can pass with no cancel at all:
  coming last, they stay under p of those executed all the way to R.
- One more thing to know when m > N: nothing is judged before m have executed, so when
  the first m all fail, m failures happen before the cancel. The text says so.
- ``fewest_failures``: ceil(p·m), the fewest that can trip it (when they come first).
- R < m: it never trips, whatever fails.

Percentages are exact decimals (``thresholdPercentage`` has at most two decimals), so
5% of 12,400 is 620, not the 620.0000000000001 a float gives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from engine.facts import FAILURE_WORDS


@dataclass(frozen=True)
class AbortFigure:
    """One abort criterion's figures; the counts are None when it can never trip."""

    failure_type: str
    threshold_percentage: float
    min_executed: int
    after_failures: int | None
    of_executed: int | None
    fewest_failures: int | None
    text: str

    def as_review(self) -> dict[str, Any]:
        """The ``review.abort`` entry of the plan's JSON."""
        return {"failureType": self.failure_type, "afterFailures": self.after_failures,
                "ofExecuted": self.of_executed}


def abort_after(reach: int, abort_config: dict[str, Any] | None) -> list[AbortFigure]:
    """Per criterion of an ``abortConfig``, in its order, for a job of ``reach`` things."""
    if reach < 0:
        raise ValueError(f"reach must be 0 or more, not {reach}")
    return [_figure(reach, criterion)
            for criterion in (abort_config or {}).get("criteriaList") or []]


def _figure(reach: int, criterion: dict[str, Any]) -> AbortFigure:
    failure_type = str(criterion.get("failureType"))
    threshold = criterion.get("thresholdPercentage")
    least = criterion.get("minNumberOfExecutedThings")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
            or not 0 <= threshold <= 100:
        raise ValueError(f"thresholdPercentage must be 0 to 100, not {threshold!r}")
    if isinstance(least, bool) or not isinstance(least, int) or least < 1:
        raise ValueError(f"minNumberOfExecutedThings must be a whole number of 1 or more, "
                         f"not {least!r}")
    share = Fraction(repr(threshold)) / 100
    words = FAILURE_WORDS.get(failure_type, failure_type.lower())
    head = f"{failure_type}: after {threshold:g}% of at least {least:,} executed"
    if reach < least:
        return AbortFigure(failure_type, float(threshold), least, None, None, None,
                           f"{failure_type}: never trips: {reach:,} reached, fewer than the "
                           f"{least:,} executed it needs")
    fewest = math.ceil(share * least)
    after = math.ceil(share * reach)
    if share == 0:
        text = (f"{failure_type}: 0% of at least {least:,} executed: cancels once {least:,} "
                f"have executed, {words} or not")
    else:
        text = f"{head}: {after:,} of {reach:,} at most"
        if least > after:
            text += f" (up to {least:,} if the first {least:,} all fail)"
    return AbortFigure(failure_type, float(threshold), least, after, reach, fewest, text)
