"""Validate a rollouts folder: every manifest checked against the schema and its rules.

``validate_folder`` reads the folder, checks every job and returns every problem of every
file at once; it makes no AWS call and imports nothing of boto3.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.cache import Entry, ValidationCache, cache_for, signature
from engine.documents import job_document
from engine.errors import Problem, Severity, errors_in
from engine.loader.tree import JobSource, Tree, format_path, load_tree
from engine.loader.yamlfile import read_raw
from engine.policies import book_for
from engine.schema import rules, waves
from engine.schema.constraints import NAME_MAX
from engine.schema.document import Finding
from engine.schema.messages import explain
from engine.schema.models import Config, Manifest

# A job with more problems than this is not worth reading further (nor slow to report).
MAX_ERRORS_PER_JOB = 50


@dataclass(frozen=True)
class ValidJob:
    """A job whose manifest passed every check, with what later steps need of its source."""

    name: str
    # The checked manifest as plain data, unset fields left out, less an inline document
    # (``document`` holds it, canonical).
    data: dict[str, Any]
    document: str | None  # canonical JSON of document / documentFile; None with documentSource
    source: str  # the manifest's path inside the repository, POSIX style
    file: str  # the manifest's path as shown to the user
    line: int
    region: str | None
    # The job's key in the validation cache ("<file's entry>#<index in the file>").
    memo_key: str | None = field(default=None, compare=False, repr=False)
    # What the job took from a _defaults.yaml: dotted path -> that file, repo-relative.
    defaults_from: dict[str, str] = field(default_factory=dict)
    # The policy exceptions the job uses: (policy id, reason) (``engine.policies``).
    waivers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def checked(cls, manifest: Manifest, **fields: Any) -> ValidJob:
        job = cls(data=manifest.model_dump(mode="json", exclude_none=True,
                                           exclude={"document"}), **fields)
        job.__dict__["manifest"] = manifest  # already built: spare the lazy rebuild
        return job

    @cached_property
    def manifest(self) -> Manifest:
        """The manifest's model; a job read from the cache builds it only if asked."""
        data = self.data
        if self.document is not None and "documentFile" not in data:
            data = {**data, "document": json.loads(self.document)}
        return Manifest.model_validate(data)

    @property
    def job_id(self) -> str | None:
        """The pinned jobId, if the manifest gives one."""
        return self.data.get("jobId")


@dataclass
class Validation:
    """The outcome of validating a folder: the valid jobs, and every problem found."""

    root: Path
    repo_root: Path
    jobs: list[ValidJob] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    config: Config | None = None
    cache: ValidationCache | None = field(default=None, compare=False, repr=False)

    @property
    def spec_hashes(self) -> SpecHashMemo:
        """Spec hashes worked out by earlier runs, kept in the cache (``engine.desired``)."""
        return SpecHashMemo(self.cache)

    def save_cache(self) -> None:
        """Keep what this run learned for the next (with the spec hashes worked out since)."""
        if self.cache is not None:
            self.cache.save()

    @property
    def ok(self) -> bool:
        return not errors_in(self.problems)


@dataclass(frozen=True)
class SpecHashMemo:
    """The validation cache's spec hashes, by job and "account/region"."""

    cache: ValidationCache | None

    def get(self, job: ValidJob, context: str) -> str | None:
        if self.cache is None or job.memo_key is None:
            return None
        return self.cache.spec_hash(job.memo_key, context)

    def put(self, job: ValidJob, context: str, digest: str) -> None:
        if self.cache is not None and job.memo_key is not None:
            self.cache.remember_hash(job.memo_key, context, digest)


def validate_folder(root: Path, *, now: datetime | None = None,
                    use_cache: bool = False) -> Validation:
    """Check every manifest under ``root``; with ``now``, clock rules are warnings.

    With ``use_cache`` (and no ``now``), files unchanged since an earlier run are not parsed
    again (``engine.cache``); the caller calls ``save_cache`` once done with the jobs.
    """
    tree = load_tree(root)
    result = Validation(tree.root, tree.repo_root, problems=tree.problems)
    result.config = _config(tree, result.problems)
    cache = (cache_for(tree.root, tree.repo_root, tree.settings_digest)
             if use_cache and now is None else None)
    region = result.config.region if result.config is not None else None
    book = book_for(tree, result.config, result.problems)
    # The accounts jobs may name; None where _config.yaml is broken (its own errors say so).
    aliases = (frozenset(result.config.accounts or {}) if result.config is not None
               else None if tree.config is not None else frozenset())
    for name, parts in zip(tree.job_paths, tree.job_parts, strict=True):
        key: str | None = None
        raw: bytes | OSError | None = None
        if cache is not None:
            key, raw, cached = _look_up(cache, name, "/".join(parts))
            if cached is not None:
                result.jobs += cached[0]
                result.problems += cached[1]
                continue
        first_problem, first_job = len(result.problems), len(result.jobs)
        deps: list[tuple[str, str | None]] = []
        for source in tree.jobs_of(Path(name), raw):
            # The job's place among the file's valid jobs: its place in the cache entry.
            memo = f"{key}#{len(result.jobs) - first_job}" if key is not None else None
            job = _validate_job(source, tree, now, result.problems, deps, memo,
                                region, aliases)
            if job is not None:
                if book is not None:  # the team's policies (engine.policies)
                    job = book.judge(job, source, result.problems)
                result.jobs.append(job)
        if cache is not None and key is not None:
            cache.put(key, Entry([_job_json(j) for j in result.jobs[first_job:]],
                                 [p.as_detail() for p in result.problems[first_problem:]],
                                 deps))
    result.cache = cache
    result.problems.extend(_clashes(result.jobs))
    # One defaults file shared by many jobs would otherwise repeat its problem per job.
    result.problems = sorted(set(result.problems), key=_problem_order)
    return result


def _look_up(cache: ValidationCache, name: str, relative: str
              ) -> tuple[str | None, bytes | OSError | None,
                         tuple[list[ValidJob], list[Problem]] | None]:
    """The file's cache key, its bytes if they had to be read, and its cached outcome."""
    sig = signature(name)
    known = cache.known_key(relative, sig) if sig is not None else None
    if known is not None:
        cached = _from_entry(cache.get(known), known)
        if cached is not None:
            return known, None, cached
    raw = read_raw(name)
    if isinstance(raw, OSError):
        return None, raw, None
    key = cache.key(relative, raw)
    if sig is not None:
        cache.read_as(relative, sig, key)
    return key, raw, _from_entry(cache.get(key), key)


def _from_entry(entry: Entry | None, key: str
                ) -> tuple[list[ValidJob], list[Problem]] | None:
    """A cache entry's jobs and problems, or None if it is absent or unreadable."""
    if entry is None:
        return None
    try:
        return ([_job_from_json(j, key) for j in entry.jobs],
                [_problem_from_json(p) for p in entry.problems] if entry.problems else [])
    except (KeyError, TypeError, ValueError):  # a damaged entry: validate the file afresh
        return None


def _job_json(job: ValidJob) -> dict[str, Any]:
    return {"name": job.name, "manifest": job.data,
            "document": job.document, "source": job.source, "file": job.file,
            "line": job.line, "region": job.region, "index": job.memo_key,
            "from": job.defaults_from, "waivers": [list(w) for w in job.waivers]}


def _job_from_json(data: dict[str, Any], key: str) -> ValidJob:
    # This version of the tool checked these bytes when it wrote the entry (the cache key
    # holds both); the model is rebuilt only where a later step asks for it.
    manifest = data["manifest"]
    if not isinstance(manifest, dict) or not isinstance(
            manifest["targets"] if "waves" not in manifest else manifest["waves"], list):
        raise TypeError("a damaged cache entry")
    memo = data.get("index")
    origins = data["from"]
    if not isinstance(origins, dict):
        raise TypeError("a damaged cache entry")
    # Positional, in the fields' order: a warm plan makes one per manifest.
    return ValidJob(data["name"], manifest, data["document"], data["source"], data["file"],
                    data["line"], data["region"],
                    memo if isinstance(memo, str) and memo.startswith(key) else None, origins,
                    tuple((str(p), str(r)) for p, r in data.get("waivers") or ()))


def _problem_from_json(data: dict[str, Any]) -> Problem:
    return Problem(data["file"], data["line"], data["column"], data["path"], data["message"],
                   Severity(data["severity"]), data.get("code", ""))


def _problem_order(p: Problem) -> tuple[str, int, int, str]:
    return (p.file, p.line, p.column, p.message)


def _config(tree: Tree, problems: list[Problem]) -> Config | None:
    if tree.config is None:
        return None
    doc = tree.config
    try:
        return Config.model_validate(doc.data)
    except ValidationError as exc:
        for error in exc.errors():
            message, at_key = explain(Config, error)
            line, col = doc.position(error["loc"], at_key=at_key)
            problems.append(Problem(doc.file, line, col, format_path(error["loc"]), message))
        return None


def _validate_job(source: JobSource, tree: Tree, now: datetime | None, problems: list[Problem],
                  deps: list[tuple[str, str | None]], memo_key: str | None,
                  default_region: str | None = None,
                  aliases: frozenset[str] | None = frozenset()) -> ValidJob | None:
    data: dict[str, Any] = dict(source.data)
    if "name" not in data:
        data["name"] = source.path.stem
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        if len(errors) > MAX_ERRORS_PER_JOB:
            line, column = source.document.position(())
            problems.append(Problem(source.file, line, column, "",
                                    f"{len(errors) - MAX_ERRORS_PER_JOB:,} more errors in "
                                    "this job are not shown; fix these first"))
        for error in errors[:MAX_ERRORS_PER_JOB]:
            message, at_key = explain(Manifest, error)
            loc = error["loc"]
            if loc and loc[-1] == "[key]":  # a mapping key, such as a documentParameters name
                loc, at_key = loc[:-1], True
            if loc == ("name",) and "name" not in source.data:
                message = (f"the file name {source.path.stem!r} is not a valid rollout name "
                           f"(letters, digits, - and _, at most {NAME_MAX}); "
                           "set name: in the manifest")
            problems.append(source.problem(loc, message, at_key=at_key))
        # The rest of the job is still checked, so that one run shows every problem: a value
        # out of its bounds stands in at its bound, a key with any other error is left out.
        stood_in = _bounded(errors)
        broken = {str(e["loc"][0]) for e in errors
                  if e["loc"] and tuple(e["loc"]) not in stood_in}
        if not all(e["loc"] for e in errors):
            broken.add("")
        stood_in = {loc: v for loc, v in stood_in.items() if str(loc[0]) not in broken}
        partial = _without(data, broken, stood_in)
        if partial is None and stood_in:  # the bounds did not make it whole: leave those out
            broken |= {str(loc[0]) for loc in stood_in}
            stood_in = {}
            partial = _without(data, broken, stood_in)
        if partial is not None:
            findings, _ = _findings(partial, source, tree, now, deps, default_region)
            for f in findings:
                if not _reads(f, broken) and not _beside(f, stood_in):
                    problems.append(source.problem(f.path, f.message, at_key=f.at_key,
                                                   warning=f.warning))
        return None

    findings, document = _findings(manifest, source, tree, now, deps, default_region)
    if manifest.account is not None and aliases is not None \
            and manifest.account not in aliases:
        findings.append(Finding(("account",), _unknown_account(manifest.account, aliases)))
    for f in findings:
        problems.append(source.problem(f.path, f.message, at_key=f.at_key, warning=f.warning))
    if any(not f.warning for f in findings):
        return None
    line, _ = source.document.position(())
    return ValidJob.checked(
        manifest,
        name=manifest.name or source.path.stem,
        document=document,
        source=source.source,
        file=source.file,
        line=line,
        region=manifest.region,
        memo_key=memo_key,
        defaults_from=source.defaults_from,
    )


def _unknown_account(alias: str, aliases: frozenset[str]) -> str:
    if not aliases:
        return (f"account {alias!r} is not declared: add accounts: {{{alias}: {{id: "
                "\"111122223333\", roleArn: ...}}}} to _config.yaml")
    near = difflib.get_close_matches(alias, sorted(aliases), n=1)
    return (f"account {alias!r} is not declared under accounts: in _config.yaml"
            + (f"; did you mean {near[0]}?" if near else
               f" (declared: {', '.join(sorted(aliases))})"))


def _findings(manifest: Manifest, source: JobSource, tree: Tree, now: datetime | None,
              deps: list[tuple[str, str | None]], default_region: str | None
              ) -> tuple[list[Finding], str | None]:
    """Every finding of a manifest that has its shape: its document's and its rules'."""
    document, findings = job_document(manifest, source, tree, deps)
    findings += rules.check(manifest, document, default_region)
    findings += waves.check(manifest)
    if now is not None:
        findings += rules.clock_findings(manifest, now, warning=True)
    for index, wave in _wave_manifests(manifest):
        # Each wave's job as it will be sent: the rules of a job, at the wave's own keys.
        own = set(wave.model_fields_set) & set((manifest.waves or [])[index].model_fields_set)
        found = rules.check(wave, document, default_region)
        if now is not None:
            found += rules.clock_findings(wave, now, warning=True)
        findings += [replace(f, path=("waves", index, *f.path)) if f.path and f.path[0] in own
                     else f for f in found]
    return findings, document


def _wave_manifests(m: Manifest) -> Iterator[tuple[int, Manifest]]:
    """Each wave's job as a manifest (the rollout's fields with the wave's merged in)."""
    if not m.waves or m.targets is not None:
        return
    data = m.model_dump(mode="json", exclude_none=True)
    for index in range(len(m.waves)):
        # Each part was validated, so their merge is valid too.
        yield index, Manifest.model_validate(waves.wave_data(data, index))


# A placeholder for a required key whose value has the wrong shape: its rules still run.
_STAND_INS: dict[str, Any] = {"targets": ["thing/-"], "name": "-"}
# The keys a rule reads besides the one it reports at (the job's whole, for ""): a finding
# that read a key with a type error would be about the gap, not about the manifest.
_ALSO_READS: dict[str, tuple[str, ...]] = {
    "": (*rules.DOCUMENT_KEYS, "jobTemplateArn"),
    **{key: (*rules.DOCUMENT_KEYS, "jobTemplateArn", "presignedUrlConfig")
       for key in rules.DOCUMENT_KEYS},
    "presignedUrlConfig": rules.DOCUMENT_KEYS,
    "documentParameters": ("jobTemplateArn", "region"),
    "jobTemplateArn": ("documentParameters", "region"),
    # Whether targets are missing, or promoted and onFailure stray, depends on waves.
    "targets": ("waves",), "promoted": ("waves",), "onFailure": ("waves",),
}


# A number out of its bounds (the error's ctx holds the bound it broke).
_BOUND_ERRORS = {"greater_than_equal": "ge", "less_than_equal": "le",
                 "greater_than": "gt", "less_than": "lt"}


def _bounded(errors: list[Any]) -> dict[tuple[Any, ...], Any]:
    """Where a number is out of its bounds, the bound it broke: a value of the right type
    that lets the rules between its object's other fields run (``_beside`` mutes the
    findings that read it)."""
    stand_ins: dict[tuple[Any, ...], Any] = {}
    for error in errors:
        bound = _BOUND_ERRORS.get(error["type"])
        value = (error.get("ctx") or {}).get(bound) if bound else None
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or isinstance(error["input"], bool) \
                or not isinstance(error["input"], int | float):
            continue
        if bound in ("gt", "lt"):  # a strict bound: the nearest value inside it
            step = 1 if isinstance(error["input"], int) and isinstance(value, int) else 1e-9
            value = value + step if bound == "gt" else value - step
        if isinstance(error["input"], int) and isinstance(value, float) \
                and value.is_integer():
            value = int(value)
        if error["loc"]:
            stand_ins[tuple(error["loc"])] = value
    return stand_ins


def _without(data: dict[str, Any], broken: set[str],
             stood_in: dict[tuple[Any, ...], Any]) -> Manifest | None:
    """The manifest less the keys with type errors and with each out-of-bounds number at its
    bound, where the rest has its shape."""
    if "" in broken:  # the job as a whole is wrong (not a mapping of keys)
        return None
    rest = {k: v for k, v in data.items() if k not in broken}
    rest.update({k: _STAND_INS[k] for k in broken & _STAND_INS.keys()})
    try:
        for loc, value in stood_in.items():
            rest = _put(rest, loc, value)
        return Manifest.model_validate(rest)
    except (ValidationError, ValueError):
        return None


def _put(data: Any, loc: tuple[Any, ...], value: Any) -> Any:
    """``data`` with ``value`` at ``loc`` (copied along the way; the rest shared)."""
    if not loc:
        return value
    head, tail = loc[0], loc[1:]
    if isinstance(data, dict) and head in data:
        return {**data, head: _put(data[head], tail, value)}
    if isinstance(data, list) and isinstance(head, int) and 0 <= head < len(data):
        return [*data[:head], _put(data[head], tail, value), *data[head + 1:]]
    raise ValueError(f"no value at {loc}")  # not the data's shape: _without gives up


def _reads(finding: Finding, broken: set[str]) -> bool:
    """Whether a finding read a key whose value had a type error."""
    top = str(finding.path[0]) if finding.path else ""
    return top in broken or any(k in broken for k in _ALSO_READS.get(top, ()))


def _beside(finding: Finding, stood_in: dict[tuple[Any, ...], Any]) -> bool:
    """Whether a finding is about a stood-in number: at it, or over a whole that holds it
    (the job's whole, path (), reads only the document's keys: ``_ALSO_READS``)."""
    path = tuple(finding.path)
    if not path:
        return False
    return any(loc[:len(path)] == path or path[:len(loc)] == loc for loc in stood_in)


def _clashes(jobs: list[ValidJob]) -> list[Problem]:
    """No two jobs may share a name or a pinned jobId anywhere in the folder."""
    problems: list[Problem] = []
    for key in ("name", "jobId"):
        first: dict[str, ValidJob] = {}
        for job in jobs:
            value = job.name if key == "name" else job.job_id
            if value is None:
                continue
            if value in first:
                other = first[value]
                hint = " (jobs in one file need a name: each)" if other.file == job.file else ""
                problems.append(Problem(job.file, job.line, 1, key,
                                        f"{key} {value} is also used by the job at "
                                        f"{other.file}:{other.line}{hint}"))
            else:
                first[value] = job
    return problems
