"""Rollout status as progress bars (text) or the JSON envelope's data."""

from __future__ import annotations

from typing import Any

from engine.facts import FAILURE_WORDS
from engine.render.safe import clean_text
from engine.status import FINISHED, OPEN, WAITING, RolloutStatus, summary

WIDTH = 30


def bar(done: int, total: int, width: int = WIDTH, *, unicode: bool = True) -> str:
    full, empty = ("█", "░") if unicode else ("#", "-")
    filled = round(width * done / total) if total else 0
    return full * filled + empty * (width - filled)


def data(statuses: list[RolloutStatus]) -> dict[str, Any]:
    """The ``data`` of ``status -o json``: every rollout and the summary the text ends on."""
    return {"rollouts": [s.as_dict() for s in statuses], "summary": summary(statuses)}


def text(statuses: list[RolloutStatus], *, unicode: bool = True) -> str:
    lines: list[str] = []
    for s in statuses:
        lines.append(f"{clean_text(s.name)}  {clean_text(s.job_id or '-')}  {s.status}  "
                     f"{clean_text(s.where or s.region)}  {s.phase}")
        if s.job_id is None:
            lines.append(f"  never created: the rollout halted at {clean_text(s.halted)}"
                         if s.halted else
                         f"  not created yet: it waits for {clean_text(s.waits)}"
                         if s.waits else "  not created yet: run apply")
            lines.append("")
            continue
        percent = 100 * s.done // s.total if s.total else 0
        lines.append(f"  [{bar(s.done, s.total, unicode=unicode)}] {percent:3d}%  "
                     f"{s.done} of {s.total} devices finished")
        lines.append("  " + ", ".join(f"{label} {n}" for label, n in s.counts.items()))
        if s.phase == WAITING:
            start = f" at {clean_text(s.start_time)} UTC" if s.start_time else ""
            lines.append(f"  scheduled: no device starts before the job does{start}")
        elif s.phase == OPEN:
            lines.append("  open: every device so far has finished; the job stays in "
                         "progress for devices that join its groups")
        lines.append(f"  rate: {s.rate}")
        for a in s.aborts:
            state = "armed" if a.armed else f"armed after {a.min_executed} executed"
            lines.append(f"  abort on {a.failure_type} at {a.threshold:g}%: {a.percent:.1f}% "
                         f"so far ({a.failures} {FAILURE_WORDS[a.failure_type]} of "
                         f"{a.executed} executed; {state})")
        if s.gate is not None:
            lines.append(f"  gate: {s.gate.state}: {clean_text(s.gate.reason)}")
            for c in s.gate.conditions:
                mark = "ok" if c.holds else "not yet" if not c.fails else "FAILED"
                lines.append(f"    {clean_text(c.name)}: {clean_text(c.have)} (wants "
                             f"{clean_text(c.want)}) {mark}")
        lines.append("")
    counted = summary(statuses)
    phases = counted["phases"]
    # open and scheduled count jobs: a rollout's, or a wave's
    later = [f"{phases[OPEN]} open for devices that join" if phases[OPEN] else "",
             f"{phases[WAITING]} scheduled to start later" if phases[WAITING] else ""]
    done_waves = sum(s.wave and s.phase == FINISHED for s in statuses)
    waves = f" ({done_waves} of {counted['waves']} waves)" if counted["waves"] else ""
    lines.append(f"{counted['finished']} of {counted['rollouts']} rollouts finished{waves}"
                 + "".join(f", {part}" for part in later if part) + ".")
    return "\n".join(lines)
