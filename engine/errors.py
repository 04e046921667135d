"""Problems (errors and warnings as data) and the project's exception tree.

Validation never raises at the first mistake: every step returns ``Problem`` records
with their location, and the CLI turns them into messages and exit codes in one place.
Exceptions are for the edge, where a run must stop; each carries the JSON error code the
CLI reports (``code``)::

    RolloutsError                  base of everything this package raises on purpose
    ├── InvalidManifests           VALIDATION_ERROR: the problems that made a folder invalid
    │                              (POLICY_VIOLATION when every error breaks a policy,
    │                              CONFIG_ERROR when _policies.yaml cannot be used)
    ├── ConfigError                CONFIG_ERROR: options or settings that cannot work together
    │   ├── NoRegion               (engine.workflow) no region anywhere
    │   ├── DamagedSandbox         (engine.sandbox.runtime) a sandbox state that cannot be read
    │   └── ServeError             (engine.sandbox.serve) the endpoint cannot start
    ├── AwsError                   AWS_ERROR (engine.aws): a call failed after retries
    │   ├── AlreadyExists          CreateJob for an existing jobId
    │   ├── NotFound               no such job, bucket or resource
    │   └── PreconditionFailed     a conditional S3 put lost a race
    ├── LedgerError                LEDGER_ERROR (engine.ledger): damaged or unreachable ledger
    ├── StalePlan                  STALE_PLAN (engine.saved): AWS or git moved since the plan
    ├── BadPlanFile                PLAN_ERROR (engine.saved): a plan file that cannot be used
    └── ImportRefused              IMPORT_ERROR (engine.importer): jobs that cannot be imported
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong (or worth a warning) in a manifest, with where it is.

    ``line`` and ``column`` are 1-based; 0 means the location is the whole file.
    ``path`` is the field path inside the job, e.g. ``abortConfig.criteriaList[0].action``.
    """

    file: str
    line: int
    column: int
    path: str
    message: str
    severity: Severity = Severity.ERROR
    # The error code the problem stands for where it is not VALIDATION_ERROR: a policy's
    # violation (POLICY_VIOLATION) or a _policies.yaml that cannot be used (CONFIG_ERROR).
    code: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        label = "" if self.is_error else "warning: "
        field = f"{self.path}: " if self.path else ""
        return f"{where}: {label}{field}{self.message}"

    def as_detail(self) -> dict[str, object]:
        """The ``details`` entry of the JSON error envelope."""
        detail: dict[str, object] = {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "severity": self.severity.value,
        }
        if self.code:
            detail["code"] = self.code
        return detail


def errors_in(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


def failure_code(problems: Iterable[Problem]) -> str:
    """The error code of a folder that failed with ``problems``: CONFIG_ERROR if the policies
    cannot be used, POLICY_VIOLATION if every error breaks a policy, else VALIDATION_ERROR."""
    codes = {p.code for p in errors_in(problems)}
    if "CONFIG_ERROR" in codes:
        return "CONFIG_ERROR"
    return "POLICY_VIOLATION" if codes == {"POLICY_VIOLATION"} else "VALIDATION_ERROR"


class RolloutsError(Exception):
    """Base of every error this package raises on purpose; ``code`` is the JSON error code,
    one of the README's list (each subclass names its own)."""

    code = "PLAN_ERROR"


class ConfigError(RolloutsError):
    """Options or settings that cannot work together."""

    code = "CONFIG_ERROR"


class InvalidManifests(RolloutsError):
    """The manifests have errors; no API call may be made."""

    code = "VALIDATION_ERROR"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.code = failure_code(problems)
        count = len(errors_in(problems))
        super().__init__(f"{count} error{'s' if count != 1 else ''} in {errors_where(problems)}")


def errors_where(problems: Iterable[Problem]) -> str:
    """What the errors are in: the manifests, the policies file, or both."""
    policies = {p.file.rsplit("/", 1)[-1].startswith("_policies.")
                for p in errors_in(problems)}
    if policies == {True}:
        return "the policies file (_policies.yaml)"
    return "the manifests and the policies file" if True in policies else "the manifests"
