"""The plan's actions: one frozen type per kind of change, in a closed union.

Each action carries its vocabulary (``verb``, ``symbol``) and the exact API calls it makes
(``calls``), built once when the plan is built: what a plan shows is what apply sends.
The executor (``engine.apply``) and every renderer handle each type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from engine.desired import DesiredJob
from engine.diff import FieldChange
from engine.facts import CANCEL_REASON_CODE, TAG_CANCELED_BY, TAG_HALTED

Call = tuple[str, dict[str, Any]]


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


@dataclass(frozen=True)
class JobRef:
    """A job the plan acts on, as AWS names it."""

    job_id: str
    arn: str
    spec_hash: str = ""  # its rollouts:spec-hash tag, for the ledger's record of a cancel


def cancel_calls(job: JobRef, reason: str, comment: str) -> tuple[Call, ...]:
    """Mark the job as the tool's cancel (so a later plan can tell it from a hand's or an
    abort's), then cancel it."""
    return (("TagResource", {"resourceArn": job.arn,
                             "tags": _tag_list({TAG_CANCELED_BY: reason})}),
            ("CancelJob", {"jobId": job.job_id, "reasonCode": CANCEL_REASON_CODE,
                           "comment": comment[:2028]}))


def change_calls(job: JobRef, fields: dict[str, Any], set_tags: dict[str, str],
                 remove_tags: tuple[str, ...]) -> tuple[Call, ...]:
    calls: list[Call] = []
    if fields:
        calls.append(("UpdateJob", {"jobId": job.job_id, **fields}))
    if set_tags:
        calls.append(("TagResource", {"resourceArn": job.arn, "tags": _tag_list(set_tags)}))
    if remove_tags:
        calls.append(("UntagResource", {"resourceArn": job.arn,
                                        "tagKeys": list(remove_tags)}))
    return tuple(calls)


class _OfJob:
    """Name, region and source of an action on git's revision of a rollout."""

    job: DesiredJob

    @property
    def name(self) -> str:
        return self.job.name

    @property
    def region(self) -> str:
        return self.job.region

    @property
    def account(self) -> str:
        return self.job.account

    @property
    def where(self) -> str:
        """The key of its (account, region) place (``engine.accounts``)."""
        return self.job.where

    @property
    def source(self) -> str | None:
        return self.job.source


@dataclass(frozen=True)
class Create(_OfJob):
    verb: ClassVar[str] = "create"
    symbol: ClassVar[str] = "+"
    job: DesiredJob
    job_id: str
    request: dict[str, Any]  # the CreateJob parameters
    diff: tuple[FieldChange, ...] = ()

    def calls(self) -> tuple[Call, ...]:
        return (("CreateJob", self.request),)


@dataclass(frozen=True)
class _Change(_OfJob):
    """A change to a job of git's revision in place: UpdateJob where mutable fields differ,
    TagResource / UntagResource where tags do."""

    job: DesiredJob
    target: JobRef
    fields: dict[str, Any]  # UpdateJob parameters besides jobId
    set_tags: dict[str, str]
    remove_tags: tuple[str, ...]
    diff: tuple[FieldChange, ...]

    @property
    def job_id(self) -> str:
        return self.target.job_id

    def calls(self) -> tuple[Call, ...]:
        return change_calls(self.target, self.fields, self.set_tags, self.remove_tags)


@dataclass(frozen=True)
class Update(_Change):
    verb: ClassVar[str] = "update"
    symbol: ClassVar[str] = "~"


@dataclass(frozen=True)
class Replace(_OfJob):
    verb: ClassVar[str] = "replace"
    symbol: ClassVar[str] = "-/+"
    job: DesiredJob
    job_id: str
    request: dict[str, Any]
    old: tuple[JobRef, ...]
    diff: tuple[FieldChange, ...]  # from the newest other revision to git's

    @property
    def old_job_ids(self) -> tuple[str, ...]:
        return tuple(j.job_id for j in self.old)

    def calls(self) -> tuple[Call, ...]:
        cancels = [call for j in self.old
                   for call in cancel_calls(j, f"replace:{self.job_id}",
                                            f"replaced by {self.job_id}")]
        return (*cancels, ("CreateJob", self.request))


@dataclass(frozen=True)
class Rename(_Change):
    """Git's revision runs under another name of the project: the job is taken over."""

    verb: ClassVar[str] = "rename"
    symbol: ClassVar[str] = ">"
    old_name: str = ""


@dataclass(frozen=True)
class Adopt(_Change):
    """Git's revision runs as a job without this project's tags: they are added."""

    verb: ClassVar[str] = "adopt"
    symbol: ClassVar[str] = "@"


@dataclass(frozen=True)
class Cancel:
    verb: ClassVar[str] = "cancel"
    symbol: ClassVar[str] = "-"
    name: str
    target: JobRef
    region: str
    source: str | None
    reason: str  # "prune", or "replace:<jobId of git's revision>"
    diff: tuple[FieldChange, ...] = ()
    account: str = ""  # the job's account id
    alias: str | None = None  # its account's alias; None: the starting credentials'

    @property
    def job_id(self) -> str:
        return self.target.job_id

    @property
    def where(self) -> str:
        return self.region if self.alias is None else f"{self.alias}/{self.region}"

    @property
    def comment(self) -> str:
        if self.reason == "prune":
            return f"{self.name} left the repository (--prune)"
        return f"replaced by {self.reason.removeprefix('replace:')}"

    def calls(self) -> tuple[Call, ...]:
        return cancel_calls(self.target, self.reason, self.comment)


@dataclass(frozen=True)
class Halt(_OfJob):
    """A wave's gate failed: its revision halts for good (no later wave is created). The
    wave's job is marked with why, and canceled unless the manifest says onFailure: hold."""

    verb: ClassVar[str] = "halt"
    symbol: ClassVar[str] = "x"
    job: DesiredJob
    target: JobRef
    reason: str
    cancel: bool
    diff: tuple[FieldChange, ...] = ()

    @property
    def job_id(self) -> str:
        return self.target.job_id

    @property
    def cancel_reason(self) -> str:
        """The rollouts:canceled-by mark of a gate's cancel."""
        return f"gate:{self.job.wave.name if self.job.wave else self.job.name}"

    def calls(self) -> tuple[Call, ...]:
        marks = {TAG_HALTED: self.reason[:256]}
        if not self.cancel:
            return (("TagResource", {"resourceArn": self.target.arn,
                                     "tags": _tag_list(marks)}),)
        marks[TAG_CANCELED_BY] = self.cancel_reason
        return (("TagResource", {"resourceArn": self.target.arn, "tags": _tag_list(marks)}),
                ("CancelJob", {"jobId": self.target.job_id, "reasonCode": CANCEL_REASON_CODE,
                               "comment": f"its wave's gate failed: {self.reason}"[:2028]}))


@dataclass(frozen=True)
class Conflict(_OfJob):
    verb: ClassVar[str] = "conflict"
    symbol: ClassVar[str] = "!"
    job: DesiredJob
    job_id: str
    fields: tuple[str, ...]
    diff: tuple[FieldChange, ...]

    def calls(self) -> tuple[Call, ...]:
        return ()


Action = Create | Update | Replace | Rename | Adopt | Cancel | Halt | Conflict
ACTION_TYPES: tuple[type[Action], ...] = (Create, Update, Replace, Rename, Adopt, Cancel, Halt,
                                          Conflict)


def main_request(action: Action) -> dict[str, Any]:
    """The parameters of the action's main call: CreateJob for what creates, UpdateJob or
    the tags for what changes a job, CancelJob for a cancel."""
    calls = action.calls()
    if not calls:
        return {"jobId": action.job_id}
    for operation in ("CreateJob", "CancelJob", "UpdateJob"):
        for op, params in calls:
            if op == operation:
                return params
    return calls[0][1]
