"""Review figures (DESIGN.md section 11): how long a job takes to notify what it reaches,
and after how many failures it cancels itself. Pure arithmetic on API-shaped dicts.
"""

from engine.review.abort import AbortFigure, abort_after
from engine.review.timeline import Timeline, minutes_to_notify

__all__ = ["AbortFigure", "Timeline", "abort_after", "minutes_to_notify"]
