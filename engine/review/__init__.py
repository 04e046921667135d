"""Review figures (DESIGN.md section 11): how many things a job reaches, how long it takes
to notify them, and after how many failures it cancels itself. Pure arithmetic on
API-shaped dicts (``timeline``, ``abort``), the figures of one job (``figures``) and of a
whole plan (``attach``, which takes the counts ``engine.reach`` read as data).
"""

from engine.review.abort import AbortFigure, abort_after
from engine.review.timeline import Timeline, minutes_to_notify

__all__ = ["AbortFigure", "Timeline", "abort_after", "minutes_to_notify"]
