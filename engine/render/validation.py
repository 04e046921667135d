"""How a validation reads: one line per problem, ``file:line:col: path: message``."""

from __future__ import annotations

from engine.errors import errors_in, errors_where, failure_code
from engine.policies import in_use
from engine.render import envelope
from engine.validate import Validation


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def text(result: Validation) -> str:
    lines = [str(p) for p in result.problems]
    lines += [f"policy exception: {w.name} ({w.source}) breaks {w.policy}: {w.reason}"
              for w in in_use(result.jobs)]
    errors = len(errors_in(result.problems))
    warnings = len(result.problems) - errors
    if errors:
        files = len({p.file for p in errors_in(result.problems)})
        lines.append(f"{_count(errors, 'error')} in {_count(files, 'file')}"
                     + (f", {_count(warnings, 'warning')}" if warnings else "")
                     + "; no API call is made until they are fixed.")
    else:
        lines.append(f"{_count(len(result.jobs), 'job')} valid"
                     + (f", {_count(warnings, 'warning')}" if warnings else "") + ".")
    return "\n".join(lines)


def json_text(result: Validation) -> str:
    details = [p.as_detail() for p in result.problems]
    if not result.ok:
        count = len(errors_in(result.problems))
        return envelope.failure(failure_code(result.problems),
                                f"{_count(count, 'error')} in {errors_where(result.problems)}",
                                details)
    return envelope.success({
        "jobs": [{"name": j.name, "jobId": j.job_id, "source": j.source,
                  "region": j.region} for j in result.jobs],
        "warnings": details,
        "policyExceptions": [w.as_dict() for w in in_use(result.jobs)],
    })
