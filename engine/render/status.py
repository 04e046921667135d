"""Rollout status as progress bars (text) or the JSON envelope."""

from __future__ import annotations

from engine.facts import SCHEDULED
from engine.render.safe import clean_text
from engine.status import RolloutStatus

WIDTH = 30


def bar(done: int, total: int, width: int = WIDTH, *, unicode: bool = True) -> str:
    full, empty = ("█", "░") if unicode else ("#", "-")
    filled = round(width * done / total) if total else 0
    return full * filled + empty * (width - filled)


def text(statuses: list[RolloutStatus], *, unicode: bool = True) -> str:
    lines: list[str] = []
    for s in statuses:
        lines.append(f"{clean_text(s.name)}  {clean_text(s.job_id or '-')}  {s.status}  "
                     f"{s.region}")
        if s.job_id is None:
            lines.append("  not created yet: run apply")
            lines.append("")
            continue
        percent = 100 * s.done // s.total if s.total else 0
        lines.append(f"  [{bar(s.done, s.total, unicode=unicode)}] {percent:3d}%  "
                     f"{s.done} of {s.total} devices finished")
        lines.append("  " + ", ".join(f"{label} {n}" for label, n in s.counts.items()))
        lines.append(f"  rate: {s.rate}")
        for a in s.aborts:
            state = "armed" if a.armed else f"armed after {a.min_executed} executed"
            lines.append(f"  abort on {a.failure_type}: {a.percent:.1f}% of "
                         f"{a.threshold:g}% ({a.failures} of {a.executed} executed; {state})")
        lines.append("")
    finished = sum(s.terminal for s in statuses)
    waiting = sum(s.status == SCHEDULED for s in statuses)
    lines.append(f"{finished} of {len(statuses)} rollouts finished"
                 + (f", {waiting} scheduled to start later." if waiting else "."))
    return "\n".join(lines)
