"""Desired jobs: valid manifests resolved to the exact CreateJob request and identity.

A desired job is git's revision of a rollout ``(project, name)`` in one account and region:
its request, its normalised spec and spec hash, the tags that are compared, and the tags
written only at creation. ``create_request`` is the one builder of what CreateJob is sent,
used by the plan (to show it) and by apply (to send it).
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from engine.facts import (
    TAG_COMMIT,
    TAG_MUTABLE_HASH,
    TAG_NAME,
    TAG_PROJECT,
    TAG_SOURCE,
    TAG_SPEC_HASH,
    TAG_WAVE,
)
from engine.gates import Gate
from engine.resolve import create_job_request
from engine.schema.models import Manifest
from engine.schema.waves import wave_data
from engine.spec import derived_job_id, immutable_spec, mutable_spec, spec_hash, waves_hash
from engine.validate import ValidJob


class SpecHashes(Protocol):
    """Spec hashes already worked out, by job and "account/region" (the validation cache
    keeps them across runs, since a hash depends only on the manifest and where it runs)."""

    def get(self, job: ValidJob, context: str) -> str | None: ...

    def put(self, job: ValidJob, context: str, digest: str) -> None: ...


class NoHashes:
    def get(self, job: ValidJob, context: str) -> str | None:
        return None

    def put(self, job: ValidJob, context: str, digest: str) -> None:
        pass


@dataclass(frozen=True)
class WaveOf:
    """Where a desired job stands in its rollout's waves (DESIGN.md section 8)."""

    name: str
    index: int
    count: int  # waves in the rollout
    gate: Gate
    promoted: bool  # listed under the manifest's promoted:
    on_failure: str  # cancel | hold

    @property
    def last(self) -> bool:
        return self.index == self.count - 1


@dataclass(frozen=True)
class DesiredJob:
    """Git's revision of a rollout, as the repository wants it."""

    project: str
    name: str
    account: str
    region: str
    job_id: str  # the pinned jobId, or the derived one of the revision's first life
    pinned: bool
    request: dict[str, Any]  # CreateJob parameters less jobId and tags
    rerun: int | None
    tags: dict[str, str]  # compared: the user's, and the tool's project, name and spec hash
    commit: str | None  # HEAD of the work tree, written at creation
    spec_hash: str
    source: str
    file: str
    line: int
    valid: ValidJob
    wave: WaveOf | None = None  # for a rollout in waves: which wave this job is
    alias: str | None = None  # its account: declared under this alias, or None: the starting

    @property
    def where(self) -> str:
        """The key of the job's place, (account, region) (``engine.accounts``)."""
        return self.region if self.alias is None else f"{self.alias}/{self.region}"

    @property
    def id_stem(self) -> str:
        """What a derived jobId starts with: the name, and the wave's for a wave's job."""
        return self.name if self.wave is None else f"{self.name}-{self.wave.name}"

    @cached_property
    def manifest(self) -> Manifest:
        """The manifest of this job as it is sent (a wave's: the rollout's and the wave's)."""
        if self.wave is None:
            return self.valid.manifest
        return Manifest.model_validate(wave_data(self.valid.data, self.wave.index))

    @cached_property
    def spec(self) -> dict[str, Any]:
        """The normalised immutable part (what the spec hash covers)."""
        fields = self.request if self.rerun is None else {**self.request, "rerun": self.rerun}
        return immutable_spec(fields, self.request.get("document"))

    @cached_property
    def mutable(self) -> dict[str, Any]:
        return mutable_spec(self.request)

    @cached_property
    def mutable_hash(self) -> str:
        """The hash of the normalised mutable fields (the tag ``rollouts:mutable-hash``)."""
        return spec_hash(self.mutable)

    @property
    def creation_tags(self) -> dict[str, str]:
        """The tags written at creation only: the manifest's path and the commit."""
        tags = {TAG_SOURCE: self.source}
        if self.commit:
            tags[TAG_COMMIT] = self.commit
        return tags

    def job_id_of_life(self, life: int) -> str:
        """The jobId of the revision's ``life``-th job (a pinned id has only one life)."""
        return self.job_id if self.pinned else derived_job_id(self.id_stem, self.spec_hash,
                                                              life)

    def create_request(self, job_id: str) -> dict[str, Any]:
        """The exact CreateJob parameters for this revision as ``job_id``."""
        tags = {**self.tags, **self.creation_tags, TAG_MUTABLE_HASH: self.mutable_hash}
        return {"jobId": job_id, **self.request,
                "tags": [{"Key": k, "Value": v} for k, v in tags.items()]}


def desire_all(jobs: list[ValidJob], *, project: str, account: str, default_region: str,
               commit: str | None, hashes: SpecHashes,
               accounts: Mapping[str, str] | None = None) -> list[DesiredJob]:
    """Every job resolved, each in its own region or the default one, and in the account
    its ``account:`` names (``accounts``: alias -> id) or ``account``.

    The validated folder's objects are moved out of the cyclic collector's sight first
    (``gc.freeze``; reference counting still frees them): what resolving and planning
    allocate would otherwise make it scan that whole heap again and again (at 10,000
    manifests, longer than the work itself). The caller unfreezes once the plan is made
    (``engine.workflow``).
    """
    gc.freeze()
    out = []
    for job in jobs:
        region = job.region or default_region
        alias = job.data.get("account")
        owner = account if alias is None else (accounts or {})[alias]
        if "waves" in job.data:
            made = desire_waves(job, project=project, account=owner, region=region,
                                commit=commit, hashes=hashes)
        else:
            made = [desire(job, project=project, account=owner, region=region,
                           commit=commit, hashes=hashes)]
        out += made if alias is None else [dataclasses.replace(d, alias=alias) for d in made]
    return out


def desire(job: ValidJob, *, project: str, account: str, region: str, commit: str | None,
           hashes: SpecHashes) -> DesiredJob:
    request = create_job_request(job, account=account, region=region)
    user_tags = {t["Key"]: t.get("Value") or "" for t in request.pop("tags", [])}
    rerun = job.data.get("rerun")
    context = f"{account}/{region}"
    digest = hashes.get(job, context)
    if digest is None:
        fields = request if rerun is None else {**request, "rerun": rerun}
        digest = spec_hash(immutable_spec(fields, request.get("document")))
        hashes.put(job, context, digest)
    pinned = job.job_id is not None
    tags = {**user_tags, TAG_PROJECT: project, TAG_NAME: job.name, TAG_SPEC_HASH: digest}
    # Positional, in the fields' order: a warm plan makes one per manifest.
    return DesiredJob(project, job.name, account, region,
                      job.job_id or derived_job_id(job.name, digest), pinned, request, rerun,
                      tags, commit, digest, job.source, job.file, job.line, job)


def desire_waves(job: ValidJob, *, project: str, account: str, region: str,
                 commit: str | None, hashes: SpecHashes) -> list[DesiredJob]:
    """A rollout in waves: a desired job per wave, each hashed over the waves up to it."""
    waves = job.data["waves"]
    promoted = set(job.data.get("promoted") or ())
    on_failure = job.data.get("onFailure") or "cancel"
    rerun = job.data.get("rerun")
    specs: list[dict[str, Any]] = []
    out = []
    for index, wave in enumerate(waves):
        request = create_job_request(job, account=account, region=region, wave=index)
        user_tags = {t["Key"]: t.get("Value") or "" for t in request.pop("tags", [])}
        fields = request if rerun is None else {**request, "rerun": rerun}
        specs.append({**immutable_spec(fields, request.get("document")), "wave": wave["name"]})
        context = f"{account}/{region}/{wave['name']}"
        digest = hashes.get(job, context)
        if digest is None:
            digest = waves_hash(specs)
            hashes.put(job, context, digest)
        tags = {**user_tags, TAG_PROJECT: project, TAG_NAME: job.name, TAG_SPEC_HASH: digest,
                TAG_WAVE: wave["name"]}
        of = WaveOf(wave["name"], index, len(waves), Gate.of(wave.get("gate")),
                    wave["name"] in promoted, on_failure)
        out.append(DesiredJob(
            project=project, name=job.name, account=account, region=region,
            job_id=derived_job_id(f"{job.name}-{wave['name']}", digest), pinned=False,
            request=request, rerun=rerun, tags=tags, commit=commit, spec_hash=digest,
            source=job.source, file=job.file, line=job.line, valid=job, wave=of))
    return out
