"""An existing job as a manifest: readable and minimal (DESIGN.md section 10). Pure.

Minimal: the API's defaults left out (``targetSelection: SNAPSHOT``, a presigned URL's
3,600 s expiry), nulls and empty settings dropped, targets in the job's own account and
region as ``thing/NAME`` / ``thinggroup/NAME``, tags only the team's (not AWS's, not the
tool's). Readable: the document as YAML where it is a JSON object, keys in the order of
the README's manifest reference, the jobId pinned so the plan adopts this very job.

A ``_defaults.yaml`` above the manifest would merge into it; ``against_defaults`` writes
what it must so that the job, merged, is still exactly the job AWS holds: ``key: null``
for what the defaults add, a default's value where the job has the API's default.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import yaml

from engine.facts import (
    API_DEFAULTS,
    DEFAULT_EXPIRES_IN_SEC,
    IMMUTABLE_FIELDS,
    MUTABLE_FIELDS,
    TAG_NAME,
    partition,
)
from engine.loader.yamlfile import parse
from engine.schema import document as job_document
from engine.schema.constraints import JOB_ID_PATTERN
from engine.spec import clean

# The order of the README's manifest reference.
ORDER = ("name", "jobId", "region", "description", "targets", "targetSelection", "document",
         "documentSource", "jobTemplateArn", "documentParameters", "presignedUrlConfig",
         "jobExecutionsRolloutConfig", "abortConfig", "jobExecutionsRetryConfig",
         "timeoutConfig", "schedulingConfig", "namespaceId", "destinationPackageVersions",
         "tags")
# DescribeJob's fields that are CreateJob's (the rest is status, counts and times).
# The document, read apart (GetJobDocument or its source), and the tool's own rerun aside.
REQUEST_FIELDS = tuple(f for f in (*IMMUTABLE_FIELDS, *MUTABLE_FIELDS)
                       if f not in ("document", "documentSource", "rerun"))
NAME_MAX = 55
_NAME = re.compile(r"[a-zA-Z0-9_-]{1,55}")
_JOB_ID = re.compile(JOB_ID_PATTERN.removeprefix("^").removesuffix("$"))
JOB_ID_MAX = 64
HASH_CHARS = 6  # a name cut from a longer jobId ends with this much of the jobId's hash


@dataclass(frozen=True)
class FoundJob:
    """What AWS holds of one job, as import reads it."""

    job_id: str
    arn: str
    status: str
    detail: dict[str, Any]  # DescribeJob's job
    document_source: str | None
    document: str | None  # GetJobDocument's, for a job with a document of its own
    tags: dict[str, str]

    @property
    def templated(self) -> bool:
        return bool(self.detail.get("jobTemplateArn"))


def rollout_name(job: FoundJob) -> str:
    """The rollout's name: the first version's name tag where it is a name, else the jobId.
    A jobId past the 55 characters of a name is cut, and ends with a hash of the whole
    jobId, so that two jobIds alike in their first 55 characters make two names. Either is
    safe as a file name."""
    tagged = job.tags.get(TAG_NAME) or ""
    if _NAME.fullmatch(tagged):
        return tagged
    if len(job.job_id) <= NAME_MAX:
        return job.job_id
    digest = hashlib.sha256(job.job_id.encode()).hexdigest()[:HASH_CHARS]
    return f"{job.job_id[:NAME_MAX - HASH_CHARS - 1]}-{digest}"


def bad_job_id(job_id: str) -> str | None:
    """Why a manifest cannot pin ``job_id`` (AWS, or a simulation of it, let it be made),
    or None."""
    if len(job_id) > JOB_ID_MAX:
        return f"is longer than the API's {JOB_ID_MAX} characters"
    if not _JOB_ID.fullmatch(job_id):
        odd = "".join(dict.fromkeys(ch for ch in job_id if not _JOB_ID.fullmatch(ch)))
        return (f"has characters a manifest's jobId cannot have ({odd!r}; only letters a-z "
                "and A-Z, digits, - and _)")
    return None


def file_stem(name: str) -> str:
    """The manifest file's name without .yaml: the rollout's, unless that would make it a
    settings file (``_``)."""
    return name if not name.startswith("_") else f"job{name}"


def manifest_fields(job: FoundJob, *, account: str, region: str, region_key: bool,
                    name: str, explicit: bool = False) -> dict[str, Any]:
    """The manifest of ``job``, in the reference's order; ``explicit`` keeps the API's
    defaults written out (what a ``_defaults.yaml`` must not change)."""
    d = job.detail
    fields: dict[str, Any] = clean({k: d[k] for k in REQUEST_FIELDS if k in d})
    prefix = f"arn:{partition(region)}:iot:{region}:{account}:"
    fields["targets"] = [t.removeprefix(prefix) for t in d.get("targets") or []]
    if explicit:
        for key, default in API_DEFAULTS.items():
            fields.setdefault(key, default)
    else:
        for key, default in API_DEFAULTS.items():  # what AWS assumes when it is left out
            if fields.get(key) == default:
                del fields[key]
        presigned = fields.get("presignedUrlConfig")
        if isinstance(presigned, dict) and "roleArn" in presigned and \
                presigned.get("expiresInSec") == DEFAULT_EXPIRES_IN_SEC:
            fields["presignedUrlConfig"] = {k: v for k, v in presigned.items()
                                            if k != "expiresInSec"}
    if job.templated:
        pass  # the template supplies the document: AWS's expansion of it is not the job's
    elif job.document_source:
        fields["documentSource"] = job.document_source
    elif job.document is not None:
        fields["document"] = readable_document(job.document)
    user_tags = {k: v for k, v in job.tags.items() if not k.startswith(("aws:", "rollouts:"))}
    if user_tags:
        fields["tags"] = user_tags
    fields["jobId"] = job.job_id
    if region_key:
        fields["region"] = region
    if file_stem(name) != name:
        fields["name"] = name
    return {k: fields[k] for k in ORDER if k in fields}


def readable_document(text: str) -> Any:
    """A JSON object as data (written as YAML), numbers kept as written; anything else (a
    document that is no JSON object) as its text."""
    try:
        value = job_document.loads(text)
    except (ValueError, RecursionError):
        return text
    return value if isinstance(value, dict) else text


def against_defaults(fields: dict[str, Any], explicit: dict[str, Any],
                     defaults: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with what keeps ``defaults`` from changing the job once merged in:
    mappings merge (so a default's extra keys are nulled), lists and scalars replace."""
    out = dict(fields)
    for key, default in defaults.items():
        mine = out.get(key)
        if key == "document" and isinstance(mine, dict):
            # Inside a document a null is a value, so a default document cannot be undone
            # key by key: the job's document goes as a JSON string, which replaces it.
            out[key] = job_document.canonical_json(mine)
        elif key not in out:
            out[key] = explicit.get(key)  # the API's default written out, else null
        elif isinstance(mine, dict) and isinstance(default, dict):
            out[key] = against_defaults(mine, explicit.get(key) or {}, default)
    ordered = [k for k in ORDER if k in out] + [k for k in out if k not in ORDER]
    return {k: out[k] for k in ordered}


# --- YAML as the loader reads it (YAML 1.2's core schema)


class _Dumper(yaml.SafeDumper):
    """Plain scalars quoted wherever YAML 1.2's core schema (the loader's) would read them
    as anything but text; document numbers written as they were; lists indented."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


_Dumper.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
        ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        ("null", r"^(?:~|null|Null|NULL|)$", "~nN"),
        ("int", r"^(?:[-+]?[0-9]+|0x.*|0o.*)$", "-+0123456789"),
        ("float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                  r"|[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN))$", "-+0123456789.")):
    _Dumper.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern),
                                  list(_first))
_Dumper.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])
_Dumper.add_representer(job_document.NumberText,
                        lambda dumper, value: dumper.represent_scalar(
                            "tag:yaml.org,2002:float", str.__str__(value)))


def to_yaml(fields: dict[str, Any], header: str) -> str:
    """The manifest's text: a comment, then the fields. A document that YAML would not give
    back exactly (the loader reads it again to see) goes as its JSON text instead."""
    text = _dump(fields, header)
    document = fields.get("document")
    if isinstance(document, dict) and not _same_document(text, document):
        text = _dump({**fields, "document": job_document.canonical_json(document)}, header)
    return text


def _dump(fields: dict[str, Any], header: str) -> str:
    body = yaml.dump(fields, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=100)
    return "".join(f"# {line}\n" for line in header.splitlines()) + body


def _same_document(text: str, document: dict[str, Any]) -> bool:
    docs, problems = parse(text, "import")
    if problems or not docs or not isinstance(docs[0].data, dict):
        return False
    read = docs[0]
    value = job_document.written_numbers(read.data.get("document"),
                                         lambda at: read.scalar_text(("document", *at)))
    try:
        return bool(job_document.canonical_json(value) == job_document.canonical_json(document))
    except (ValueError, RecursionError):
        return False
