"""A job's identity: its spec hash, its jobId, and the tags that mark it as the tool's.

The spec hash covers the immutable part of the CreateJob request (canonical JSON), so a
derived jobId ``<name>-<first 8 hex>`` changes exactly when the rollout must be a new job,
and creating it twice is impossible: AWS refuses the second CreateJob for the same id.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from engine.resolve import IMMUTABLE_FIELDS

TAG_NAME = "rollouts:name"
TAG_SPEC_HASH = "rollouts:spec-hash"
TAG_SOURCE = "rollouts:source"
TAG_COMMIT = "rollouts:commit"
# Written at creation, never compared: moving a file or a new commit is no change.
UNDIFFED_TAGS = frozenset({TAG_SOURCE, TAG_COMMIT})
DERIVED_ID = re.compile(r"^(?P<name>[a-zA-Z0-9_-]+)-(?P<hash>[0-9a-f]{8})$")


def immutable_part(request: dict[str, Any]) -> dict[str, Any]:
    return {key: request[key] for key in IMMUTABLE_FIELDS if key in request}


def spec_hash(request: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the request's immutable fields."""
    text = json.dumps(immutable_part(request), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def derived_job_id(name: str, digest: str) -> str:
    return f"{name}-{digest[:8]}"


def name_of_derived(job_id: str) -> str | None:
    """The rollout name a derived jobId was made from, or None if it is not of that form."""
    match = DERIVED_ID.match(job_id)
    return match.group("name") if match else None
