"""A job's spec in one normal form, its hash and its jobId: the one place both sides of a
comparison are brought to the same shape, each step with the quirk it handles.

Equality of normalised dicts decides whether a job changed (microseconds); deepdiff only
explains a difference already found (milliseconds, ``engine.diff``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from engine.facts import (
    API_DEFAULTS,
    DEFAULT_EXPIRES_IN_SEC,
    IMMUTABLE_FIELDS,
    JOB_ID_MAX,
    MUTABLE_FIELDS,
    UNDIFFED_TAGS,
)
from engine.schema import document as job_document


def clean(value: Any) -> Any:
    """Drop nulls and empty containers; integral floats become ints.

    - nulls: DescribeJob leaves out, or returns null for, what was never set, and a
      manifest's ``key: null`` means "not set";
    - empty mappings and lists: AWS returns ``{}`` for some unset configs, and
      ``schedulingConfig: {}`` or ``destinationPackageVersions: []`` ask for nothing;
    - integral floats: AWS's doubles come back as ``5.0`` for a manifest's ``5``.
    """
    kind = type(value)  # JSON and botocore give plain dicts and lists; a plan compares many
    if kind is dict:
        out = {}
        for key, item in value.items():
            if item is None:
                continue
            item_kind = type(item)
            if item_kind is dict or item_kind is list:
                item = clean(item)
                if not item:
                    continue
            elif item_kind is float and item.is_integer():
                item = int(item)
            out[key] = item
        return out
    if kind is list:
        return [clean(item) for item in value]
    if kind is float and value.is_integer():
        return int(value)
    return value


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _canonical_document(document: str) -> str:
    # The remote document may be spelled with other spacing or key order; its numbers are
    # compared as written, as validation wrote the local one (engine.schema.document).
    try:
        return job_document.canonical_json(job_document.loads(document))
    except (ValueError, RecursionError):
        return document


def immutable_spec(fields: dict[str, Any], document: str | None) -> dict[str, Any]:
    """The fields fixed at creation, normalised: from a request, or from DescribeJob with
    GetJobDocument's ``document``."""
    picked = {k: fields[k] for k in IMMUTABLE_FIELDS if k in fields and k != "document"}
    if document is not None:
        picked["document"] = _canonical_document(document)
    spec: dict[str, Any] = clean(picked)
    for key, default in API_DEFAULTS.items():  # the API's defaults written out
        spec.setdefault(key, default)
    targets = spec.get("targets")
    if isinstance(targets, list):  # their order means nothing to AWS
        spec["targets"] = sorted(set(targets))
    return spec


def as_compared_to(remote: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any]:
    """A remote job's immutable spec as it compares with a desired one: for a job made from
    a template, the document AWS expanded from it (and the template's document source) is
    not the manifest's to compare; the template ARN and its parameters are. For a job
    from a ``documentSource``, the source is compared, not the content read from it."""
    if "jobTemplateArn" not in desired:
        if "documentSource" in desired and "document" not in desired and "document" in remote:
            # GetJobDocument answers the content AWS read from the documentSource at
            # creation: the manifest names the source, not the content.
            return {k: v for k, v in remote.items() if k != "document"}
        return remote
    return {k: v for k, v in remote.items()
            if k not in ("document", "documentSource") or k in desired}


def mutable_spec(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields UpdateJob can change, normalised: from a request or from DescribeJob."""
    spec: dict[str, Any] = clean(picked_mutable(fields))
    config = spec.get("presignedUrlConfig")
    if isinstance(config, dict) and "roleArn" in config and "expiresInSec" not in config:
        spec["presignedUrlConfig"] = {**config, "expiresInSec": DEFAULT_EXPIRES_IN_SEC}
    return spec


def picked_mutable(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields UpdateJob can change, as they stand."""
    return {k: fields[k] for k in MUTABLE_FIELDS if k in fields}


def same_mutable(one: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether two jobs' mutable fields are equal as they stand (a null as good as absent).
    Two that are equal stay equal once normalised (each step maps equal values to equal
    ones), so an in-sync job is told without normalising; only a difference needs
    ``mutable_spec``."""
    for key in MUTABLE_FIELDS:  # noqa: SIM110 (a loop: all() over a generator costs more)
        if one.get(key) != other.get(key):
            return False
    return True


def spec_hash(spec: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a normalised immutable spec."""
    return hashlib.sha256(canonical_json(spec).encode("utf-8")).hexdigest()


def waves_hash(specs: list[dict[str, Any]]) -> str:
    """The spec hash of a rollout's wave: over the normalised specs of every wave up to it,
    each with its wave's name. A change before a wave is a change of the wave; a wave added
    after the last one changes none of the waves before it."""
    return hashlib.sha256(canonical_json(specs).encode("utf-8")).hexdigest()


def derived_job_id(name: str, digest: str, life: int = 1) -> str:
    """``<name>-<8 hex>``, and ``-<life>`` from a revision's second life on; the name is
    shortened where the whole would pass AWS's 64 characters."""
    tail = f"-{digest[:8]}" + (f"-{life}" if life > 1 else "")
    return name[:JOB_ID_MAX - len(tail)] + tail


def compared_tags(tags: dict[str, str]) -> dict[str, str]:
    """Tags that count as a change: not the ones written once, not AWS's own."""
    return {k: v for k, v in tags.items()
            if k not in UNDIFFED_TAGS and not k.startswith("aws:")}


def readable(fields: dict[str, Any]) -> dict[str, Any]:
    """The document as data, so a diff names the key that changed, not the whole string."""
    document = fields.get("document")
    if isinstance(document, str):
        try:
            return {**fields, "document": json.loads(document)}
        except ValueError:
            return fields
    return fields
