"""Judge each valid job by the policies: violations, exceptions claimed and used.

A job is judged as git holds it, the same way in ``validate``, ``plan`` and ``apply``, so a
folder that validates clean never fails a plan on a policy: ``job`` is the CreateJob
request built by ``engine.resolve`` (a rollout in waves: each wave's request), with target
shorthands as ARNs of the job's region (the manifest's, else ``_config.yaml``'s) and of
the placeholder account ``000000000000`` (the account in use is known only to a plan; a
policy about accounts reads ``rollout.account``, the alias the manifest declares).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from engine.errors import Problem
from engine.facts import API_DEFAULTS
from engine.loader.tree import JobSource
from engine.policies.engines import cel_engine
from engine.policies.expressions import Reach, Shape, steps, weigh
from engine.policies.model import Policy
from engine.resolve import create_job_request

if TYPE_CHECKING:
    from engine.validate import ValidJob

VIOLATION = "POLICY_VIOLATION"
PLACEHOLDER_ACCOUNT = "000000000000"


@dataclass(frozen=True)
class Waiver:
    """An exception a manifest claims and uses: the rollout breaks the policy, openly."""

    name: str
    source: str
    policy: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "source": self.source, "policy": self.policy,
                "reason": self.reason}


@dataclass(frozen=True)
class PolicyBook:
    """The folder's policies, compiled; ``judge`` runs them on one job."""

    policies: tuple[Policy, ...]
    project: str | None
    default_region: str | None
    engine: Any = None  # the CEL engine (``engines``), loaded only where there are policies
    # What the policies read of ``job`` and ``rollout`` (``_reads``; None: all), and the
    # shapes of the expressions with comprehensions.
    reads: dict[str, Any] | None = None
    comprehensions: tuple[Shape, ...] = ()

    @classmethod
    def of(cls, policies: tuple[Policy, ...], project: str | None,
           default_region: str | None) -> PolicyBook:
        shapes = [s for p in policies for s in (p.match_shape, p.rule_shape) if s is not None]
        return cls(policies, project, default_region, cel_engine(), _reads(shapes),
                   tuple(s for s in shapes if s.comprehensions))

    def judge(self, job: ValidJob, source: JobSource, problems: list[Problem]) -> ValidJob:
        """``job`` with the exceptions it uses; its violations appended to ``problems``."""
        claimed: dict[str, str] = job.data.get("policyExceptions") or {}
        if not self.policies and not claimed:
            return job
        known = {p.id: p for p in self.policies}
        for policy_id in claimed:
            if policy_id not in known:
                problems.append(source.problem(
                    ("policyExceptions", policy_id),
                    f"no policy {policy_id} in _policies.yaml; the policies are "
                    f"{', '.join(sorted(known)) or 'none (there is no _policies.yaml)'}",
                    at_key=True))
        broken: set[str] = set()
        for index, label, request, rollout in self._cases(job) if self.policies else ():
            # Only what some policy reads is converted to CEL's values, once for every
            # policy: the costly part of a run (about a microsecond a string and a key).
            variables = _pruned({"job": request, "rollout": rollout}, self.reads)
            context = self.engine.context(variables)
            reach = self._reach(variables, len(job.document or ""))
            matched: dict[str, bool | str] = {}  # a match shared by policies runs once
            for policy in self.policies:
                if policy.id in broken:
                    continue
                failure = _failure(self.engine, policy, context, reach, matched)
                if failure is None:
                    continue
                broken.add(policy.id)
                if policy.id in claimed and policy.spec.exceptions == "allowed":
                    continue  # waived in the open: listed by every plan, not a problem
                problems.append(self._violation(policy, failure, label, claimed, source,
                                                job.data["waves"][index]
                                                if index is not None else None, index,
                                                "documentFile" in job.data))
        for policy_id in claimed:
            if policy_id in known and policy_id not in broken:
                if known[policy_id].spec.exceptions == "forbidden":
                    found = source.problem(
                        ("policyExceptions", policy_id),
                        f"policy {policy_id} allows no exception (exceptions: forbidden); "
                        "remove the exception", at_key=True)
                    problems.append(replace(found, code=VIOLATION))
                    continue
                problems.append(source.problem(
                    ("policyExceptions", policy_id),
                    f"the exception for policy {policy_id} is not needed: the job keeps it; "
                    "remove the exception", at_key=True, warning=True))
        used = tuple((p, claimed[p]) for p in sorted(broken)
                     if p in claimed and known[p].spec.exceptions == "allowed")
        return replace(job, waivers=used) if used else job

    def _reach(self, variables: dict[str, Any], document_chars: int) -> Reach:
        """What the expressions with comprehensions can reach in the job (the values at
        the paths they read), where a policy's cost could depend on it.

        The document is the only part of a job that can be large: it is weighed only where
        a bound from its length (an entry takes at least 2 characters of its JSON, a
        string's weight is at most its length) could take an expression past the budget."""
        if not self.comprehensions:
            return Reach(0, 0, 0)
        rest = Reach(0, 0, 0)
        document: list[Any] = []
        heavy: list[Any] = []  # fields of the document a body's paths start from
        joined: list[Any] = []  # values of the document a body's paths read
        seen: set[tuple[tuple[str, ...], bool]] = set()
        for form in self.comprehensions:
            for path in form.paths:
                inner = path in form.inner
                if (path, inner) in seen:  # several policies read job.targets
                    continue
                seen.add((path, inner))
                value = _at(variables, path)
                if path[:2] == ("job", "document"):
                    document.append(value)
                    if inner:
                        heavy.append(_at(variables, path[:2]))
                        joined.append(value)
                    continue
                start = _at(variables, path[:2]) if inner else None
                if path == ("job",) and type(value) is dict:
                    document.append(value.get("document"))
                    if inner:
                        heavy.append(value.get("document"))
                        joined.append(value.get("document"))
                    value = start = {k: v for k, v in value.items() if k != "document"}
                weight, longest = weigh(value)
                heft = weigh(start)[0] if inner else 0
                rest = Reach(max(rest.longest, longest), max(rest.heft, heft),
                             max(rest.bulk, weight), max(rest.joined, weight if inner else 0))
        if not document:
            return rest
        bound = Reach(max(rest.longest, document_chars // 2 + 1),
                      rest.heft + (document_chars + 1 if heavy else 0),
                      rest.bulk + document_chars + 1,
                      rest.joined + (document_chars + 1 if joined else 0))
        if all(steps(s, bound) <= self.engine.max_steps for s in self.comprehensions):
            return bound
        weighed = [weigh(value) for value in document]
        return Reach(max([rest.longest] + [longest for _, longest in weighed]),
                     max([rest.heft] + [weigh(value)[0] for value in heavy]),
                     max([rest.bulk] + [weight for weight, _ in weighed]),
                     max([rest.joined] + [weigh(value)[0] for value in joined]))

    def _cases(self, job: ValidJob
               ) -> list[tuple[int | None, str, dict[str, Any], dict[str, Any]]]:
        """The requests the job sends: one, or one per wave (with the wave's name)."""
        region = job.region or self.default_region
        waves = job.data.get("waves") or []
        rollout = {"name": job.name, "project": self.project,
                   "account": job.data.get("account"), "region": region,
                   "source": job.source, "waves": waves}
        indexes: list[int | None] = list(range(len(waves))) if waves else [None]
        cases = []
        for index in indexes:
            request = create_job_request(job, account=PLACEHOLDER_ACCOUNT, region=region or "",
                                         wave=index)
            # As AWS reads it: the API's defaults written out, as the spec does.
            request = {**API_DEFAULTS, **request}
            if "document" in request and _read(self.reads, "job", "document"):
                request["document"] = json.loads(request["document"])
            if "tags" in request:
                request["tags"] = {t["Key"]: t.get("Value") or "" for t in request["tags"]}
            label = f"wave {waves[index]['name']}: " if index is not None else ""
            cases.append((index, label, request, rollout))
        return cases

    def _violation(self, policy: Policy, failure: str, label: str, claimed: dict[str, str],
                   source: JobSource, wave: dict[str, Any] | None,
                   index: int | None, document_file: bool) -> Problem:
        path = ("policyExceptions", policy.id) if policy.id in claimed else _path_read(policy)
        if document_file and path[:1] == ("document",):  # the document is in another file
            path = ("documentFile",)
        if wave is not None and path and path[0] in wave:  # the wave's own field
            path = ("waves", index or 0, *path)
        message = f"{label}policy {policy.id}: {failure}"
        if policy.id in claimed:  # and the policy forbids exceptions
            message += ("; the policy allows no exception (exceptions: forbidden), so "
                        "policyExceptions cannot waive it")
        elif policy.spec.exceptions == "allowed" and policy.error:
            message += (f" (or claim an exception: policyExceptions: {{{policy.id}: "
                        "REASON})")
        found = source.problem(path, message, at_key=True, warning=not policy.error)
        return replace(found, code=VIOLATION)


def _failure(engine: Any, policy: Policy, variables: Any, reach: Reach,
             matched: dict[str, bool | str]) -> str | None:
    """Why the job breaks ``policy`` (its message), or None where it keeps it or is not
    matched (``matched``: the verdicts of the match expressions run on this job so far)."""
    if policy.match is not None:
        text = policy.spec.match or ""
        verdict = matched.get(text)
        if verdict is None:
            verdict = matched[text] = _run(engine, policy.match, policy.match_shape,
                                           variables, reach)
        if verdict is False:
            return None
        if verdict is not True:
            return f"its match cannot be judged on this job: {verdict}"
    verdict = _run(engine, policy.rule, policy.rule_shape, variables, reach)
    if verdict is True:
        return None
    if verdict is False:
        return policy.message
    return f"{policy.message} (the rule cannot be judged on this job: {verdict})"


def _run(engine: Any, program: Any, form: Shape | None, variables: Any,
         reach: Reach) -> bool | str:
    """True or False, or why the expression gave neither."""
    # Beyond the engine's budget the policy is not run on the job, which fails it instead
    # (a rule that cannot be judged holds no guarantee).
    if form is not None and form.comprehensions:
        cost = steps(form, reach)
        if cost > engine.max_steps:
            return (f"it would take about {cost:,} steps, over the {engine.max_steps:,} a "
                    "policy may take on one job; simplify it")
    try:
        result = engine.run(program, variables)
    except Exception as exc:  # CEL's runtime errors: no such key, division by zero, ...
        name = type(exc).__name__
        text = " ".join(str(exc).split())[:200]
        if name == "KeyError":
            return f"no field {text}; guard optional fields with has()"
        return text or name
    if type(result) is bool:
        return result
    return f"it gives {type(result).__name__} {str(result)[:80]}, not true or false"


def _reads(shapes: list[Shape]) -> dict[str, Any] | None:
    """The paths the expressions read, as a tree: ``{"job": {"document": {"sha256":
    None}}, "rollout": None}``, where None is a value read whole (a list a comprehension
    walks, ``size(job.tags)``, ``job.targets[0]``); None: a variable is read whole."""
    tree: dict[str, Any] = {}
    for form in shapes:
        for path in form.paths:
            node: dict[str, Any] | None = tree
            for depth, name in enumerate(path, start=1):
                if node is None:
                    break
                if depth == len(path):
                    node[name] = None
                elif name not in node:
                    node[name] = {}
                node = node[name]
    if tree.get("job", {}) is None and tree.get("rollout", {}) is None:
        return None
    return tree


def _at(variables: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` (None where the job has none)."""
    value: Any = variables
    for name in path:
        if type(value) is not dict:
            return None
        value = value.get(name)
    return value


def _read(reads: dict[str, Any] | None, variable: str, field: str) -> bool:
    """Whether an expression reads ``variable.field``."""
    if reads is None or (variable in reads and reads[variable] is None):
        return True
    return field in reads.get(variable, {})


def _pruned(value: Any, reads: dict[str, Any] | None) -> Any:
    """What of ``value`` the tree ``reads`` holds: a key no expression reads is left out
    (it cannot be reached: a key read by a comprehension or ``[]`` is read whole)."""
    if reads is None or type(value) is not dict:
        return value
    return {key: _pruned(value[key], below) for key, below in reads.items() if key in value}


def _path_read(policy: Policy) -> tuple[str | int, ...]:
    """The manifest path of the job field the rule reads deepest (else the match's), where
    a violation is shown; () is the job's own line."""
    for form in (policy.rule_shape, policy.match_shape):
        paths = [p[1:] for p in form.paths if p[0] == "job" and len(p) > 1] if form else []
        if paths:
            return max(paths, key=len)  # the first of the deepest
    return ()


def in_use(jobs: list[ValidJob]) -> list[Waiver]:
    """Every exception the folder's jobs use, with its reason."""
    return [Waiver(job.name, job.source, policy, reason)
            for job in jobs for policy, reason in job.waivers]
