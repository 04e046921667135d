"""Issue 9's scenarios as a team lives them over weeks, through the CLI as a subprocess
against a moto server (``--endpoint-url``, ``--output json``).

Each test is a sequence of edits, plans and applies. After each step it checks what AWS
holds (read with boto3 from the server) and what the plan says, and the invariant of
DESIGN.md section 3: for each rollout of the project at most one job is active, and it is
git's revision.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from .conftest import ACCOUNT, REGION, cli_env, make_repo

PROJECT = "acme-fleet"
OTHER_REGION = "us-east-1"
WRITES = ("CreateJob", "UpdateJob", "CancelJob", "TagResource", "UntagResource", "DeleteJob")
HASH = re.compile(r"[0-9a-f]{64}")


def manifest(version: str, extra: str = "", *, targets: str = "[thing/dev-1]") -> str:
    return (f"targets: {targets}\n"
            f"document: {{operation: firmware-update, version: '{version}'}}\n{extra}")


def document(version: str) -> dict[str, str]:
    """The job document ``manifest(version)`` sends."""
    return {"operation": "firmware-update", "version": version}


def thing_arn(name: str, region: str = REGION) -> str:
    return f"arn:aws:iot:{region}:{ACCOUNT}:thing/{name}"


# --- the repository, driven through the CLI ----------------------------------------------


class Repo:
    """One git repository's rollouts folder, planned and applied with the CLI."""

    def __init__(self, base: Path, server: str, files: dict[str, str], *,
                 project: str | None = PROJECT, region: str = REGION,
                 ledger: str = "file://ledger.json", config: str = "") -> None:
        base.mkdir(parents=True, exist_ok=True)
        self.root = make_repo(base, files)
        self.server = server
        lines = [f"region: {region}", f"ledger: {ledger}"]
        if project is not None:
            lines.append(f"project: {project}")
        (self.root / "_config.yaml").write_text("\n".join(lines) + "\n" + config)

    def write(self, rel: str, text: str) -> None:
        (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (self.root / rel).write_text(text)

    def remove(self, rel: str) -> None:
        (self.root / rel).unlink()

    def rename(self, old: str, new: str) -> None:
        (self.root / old).rename(self.root / new)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "engine", *args, "--endpoint-url", self.server,
             "--output", "json"],
            cwd=self.root.parent, env=cli_env(), capture_output=True, text=True, check=False,
            stdin=subprocess.DEVNULL, timeout=120)

    def plan(self, *flags: str, exit: int) -> dict[str, Any]:
        """``plan --detailed-exitcode``: its exit code must be ``exit``; returns the data.
        A plan never writes."""
        done = self.run("plan", "--detailed-exitcode", *flags)
        body = envelope(done)
        assert done.returncode == exit, done.stdout + done.stderr
        assert body["success"] is True, body
        data: dict[str, Any] = body["data"]
        assert not set(data["apiCalls"]) & set(WRITES), data["apiCalls"]
        return data

    def apply(self, *flags: str) -> dict[str, Any]:
        """``apply --auto-approve``, which must succeed; returns the data."""
        done = self.run("apply", "--auto-approve", *flags)
        body = envelope(done)
        assert done.returncode == 0, done.stdout + done.stderr
        assert body["success"] is True, body
        data: dict[str, Any] = body["data"]
        for change in data["changes"]:
            assert change.get("outcome", {"ok": True})["ok"], change
        return data

    def fails(self, *args: str) -> dict[str, Any]:
        """A command that must fail with exit 1: its error (one JSON document on stdout,
        no traceback on stderr)."""
        done = self.run(*args)
        body = envelope(done)
        assert done.returncode == 1, done.stdout + done.stderr
        assert body["success"] is False, body
        assert "Traceback" not in done.stderr, done.stderr
        error: dict[str, Any] = body["error"]
        return error


def envelope(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """stdout as the one JSON document ``--output json`` promises."""
    try:
        body: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"stdout is not one JSON document:\n{done.stdout}\n{done.stderr}")
    assert "Traceback" not in done.stderr, done.stderr
    return body


def counts(data: dict[str, Any]) -> dict[str, int]:
    """The plan's summary without its zeros."""
    return {k: v for k, v in data["summary"].items() if v}


def only(data: dict[str, Any]) -> dict[str, Any]:
    """The plan's one change."""
    assert len(data["changes"]) == 1, data["changes"]
    change: dict[str, Any] = data["changes"][0]
    return change


def operations(change: dict[str, Any]) -> list[str]:
    return [call["operation"] for call in change["calls"]]


def no_changes(data: dict[str, Any], *unchanged: str) -> None:
    """The plan changes nothing, lists no orphan, and holds ``unchanged`` rollouts."""
    assert data["changes"] == [] and data["orphans"] == [], data
    assert counts(data) == ({"unchanged": len(unchanged)} if unchanged else {}), data


def noted(data: dict[str, Any], *words: str) -> str:
    """The one note that holds every word of ``words``."""
    found = [n for n in data["notes"] if all(w in n for w in words)]
    assert found, (words, data["notes"])
    return found[0]


# --- what AWS holds ----------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    job_id: str
    arn: str
    status: str
    tags: dict[str, str]

    @property
    def active(self) -> bool:
        return self.status in ("IN_PROGRESS", "SCHEDULED")


class Aws:
    """The moto server, read and changed with boto3 as a hand at the console would."""

    def __init__(self, server: str) -> None:
        self.server = server

    def iot(self, region: str = REGION) -> Any:
        return boto3.client("iot", region_name=region, endpoint_url=self.server,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def jobs(self, region: str = REGION) -> dict[str, Job]:
        iot = self.iot(region)
        out = {}
        for page in iot.get_paginator("list_jobs").paginate():
            for raw in page["jobs"]:
                tags = iot.list_tags_for_resource(resourceArn=raw["jobArn"])["tags"]
                out[raw["jobId"]] = Job(raw["jobId"], raw["jobArn"], raw["status"],
                                        {t["Key"]: t.get("Value", "") for t in tags})
        return out

    def job(self, job_id: str, region: str = REGION) -> Job:
        return self.jobs(region)[job_id]

    def document(self, job_id: str, region: str = REGION) -> Any:
        return json.loads(self.iot(region).get_job_document(jobId=job_id)["document"])

    def describe(self, job_id: str, region: str = REGION) -> dict[str, Any]:
        job: dict[str, Any] = self.iot(region).describe_job(jobId=job_id)["job"]
        return job

    def assert_git(self, git: dict[str, str], *, project: str = PROJECT,
                   region: str = REGION, documents: dict[str, Any] | None = None) -> None:
        """The invariant: the active jobs of ``project``'s rollouts in ``region`` (jobs made
        by the tool's first version, with a name tag and no project tag, count too) are
        exactly ``git``, rollout name -> git's jobId: one each, and none for the others.
        ``documents`` (name -> document) checks that each runs git's content."""
        active: dict[str, list[str]] = {}
        for job in self.jobs(region).values():
            name = job.tags.get("rollouts:name")
            if job.active and name and job.tags.get("rollouts:project", project) == project:
                active.setdefault(name, []).append(job.job_id)
        assert active == {name: [job_id] for name, job_id in git.items()}, active
        for name, wanted in (documents or {}).items():
            assert self.document(git[name], region) == wanted, name

    def assert_canceled_by(self, job_id: str, reason: str, region: str = REGION) -> None:
        job = self.job(job_id, region)
        assert job.status == "CANCELED", job
        assert job.tags.get("rollouts:canceled-by") == reason, job.tags



@pytest.fixture
def aws(server: str) -> Aws:  # the conftest's in-process ``aws`` is not used here
    return Aws(server)


# --- 1. revert chains --------------------------------------------------------------------


def test_revert__v1_v2_v1_v2__each_revert_is_a_new_life_that_replaces_the_other(
        server: str, aws: Aws, tmp_path: Path) -> None:
    repo = Repo(tmp_path, server, {"fw.yaml": manifest("1.0.0")})
    created = only(repo.plan(exit=2))
    assert created["action"] == "create" and created["name"] == "fw"
    v1 = created["jobId"]
    assert re.fullmatch(r"fw-[0-9a-f]{8}", v1), v1
    repo.apply()
    aws.assert_git({"fw": v1}, documents={"fw": document("1.0.0")})
    tags = aws.job(v1).tags
    assert tags["rollouts:project"] == PROJECT and tags["rollouts:name"] == "fw"
    assert HASH.fullmatch(tags["rollouts:spec-hash"]), tags
    assert tags["rollouts:source"] == "rollouts/fw.yaml"
    no_changes(repo.plan(exit=0), "fw")

    repo.write("fw.yaml", manifest("2.0.0"))
    data = repo.plan(exit=2)
    replace = only(data)
    assert counts(data) == {"replace": 1}
    assert replace["action"] == "replace" and replace["replaces"] == [v1]
    v2 = replace["jobId"]
    assert re.fullmatch(r"fw-[0-9a-f]{8}", v2) and v2 != v1
    assert operations(replace) == ["TagResource", "CancelJob", "CreateJob"]
    assert {"path": "document.version", "before": "1.0.0", "after": "2.0.0"} in [
        {k: c[k] for k in ("path", "before", "after")} for c in replace["diff"]]
    repo.apply()
    aws.assert_canceled_by(v1, f"replace:{v2}")
    aws.assert_git({"fw": v2}, documents={"fw": document("2.0.0")})
    no_changes(repo.plan(exit=0), "fw")

    repo.write("fw.yaml", manifest("1.0.0"))  # git revert
    data = repo.plan(exit=2)
    back = only(data)
    assert counts(data) == {"replace": 1}
    assert back["action"] == "replace"
    assert back["jobId"] == f"{v1}-2" and back["replaces"] == [v2]
    repo.apply()
    aws.assert_canceled_by(v2, f"replace:{v1}-2")
    assert aws.job(v1).status == "CANCELED"
    aws.assert_git({"fw": f"{v1}-2"}, documents={"fw": document("1.0.0")})
    no_changes(repo.plan(exit=0), "fw")

    repo.write("fw.yaml", manifest("2.0.0"))  # the revert reverted
    again = only(repo.plan(exit=2))
    assert again["action"] == "replace"
    assert again["jobId"] == f"{v2}-2" and again["replaces"] == [f"{v1}-2"]
    repo.apply()
    aws.assert_canceled_by(f"{v1}-2", f"replace:{v2}-2")
    aws.assert_git({"fw": f"{v2}-2"}, documents={"fw": document("2.0.0")})
    no_changes(repo.plan(exit=0), "fw")


# --- 2. a pinned jobId changed twice -----------------------------------------------------


def test_pinned_job_id__changed_twice_with_the_document__each_replaces_the_last(
        server: str, aws: Aws, tmp_path: Path) -> None:
    repo = Repo(tmp_path, server, {"fw.yaml": manifest("1.0.0", "jobId: fw-a\n")})
    assert only(repo.plan(exit=2))["jobId"] == "fw-a"
    repo.apply()
    aws.assert_git({"fw": "fw-a"}, documents={"fw": document("1.0.0")})
    no_changes(repo.plan(exit=0), "fw")

    previous = "fw-a"
    for pinned, version in (("fw-b", "2.0.0"), ("fw-c", "3.0.0")):
        repo.write("fw.yaml", manifest(version, f"jobId: {pinned}\n"))
        data = repo.plan(exit=2)
        change = only(data)
        assert counts(data) == {"replace": 1}
        assert change["jobId"] == pinned and change["replaces"] == [previous]
        repo.apply()
        aws.assert_canceled_by(previous, f"replace:{pinned}")
        aws.assert_git({"fw": pinned}, documents={"fw": document(version)})
        no_changes(repo.plan(exit=0), "fw")
        previous = pinned
    assert {j.job_id for j in aws.jobs().values()} == {"fw-a", "fw-b", "fw-c"}


def test_pinned_job_id__changed_with_the_same_content__one_active_job_then_no_changes(
        server: str, aws: Aws, tmp_path: Path) -> None:
    repo = Repo(tmp_path, server, {"fw.yaml": manifest("1.0.0", "jobId: fw-a\n")})
    repo.apply()
    repo.write("fw.yaml", manifest("1.0.0", "jobId: fw-b\n"))
    # A changed pinned id is a replace (DESIGN.md section 3), even with the same content:
    # the pinned id is the revision's one life.
    change = only(repo.plan(exit=2))
    assert change["action"] == "replace" and change["replaces"] == ["fw-a"]
    repo.apply()
    aws.assert_canceled_by("fw-a", "replace:fw-b")
    active = [j for j in aws.jobs().values() if j.active]
    assert len(active) == 1, active
    assert aws.document(active[0].job_id) == document("1.0.0")
    no_changes(repo.plan(exit=0), "fw")


# --- 3. every API default restated --------------------------------------------------------


def test_api_defaults__restated_dropped_reordered_respelled__no_changes_and_no_cancel(
        server: str, aws: Aws, tmp_path: Path) -> None:
    defaults = "targetSelection: SNAPSHOT\ntags: {team: fw}\n"
    repo = Repo(tmp_path, server, {
        "firmware/_defaults.yaml": defaults,
        "firmware/fw.yaml": manifest("1.0.0", targets="[thing/a, thing/b]")})
    job_id = only(repo.plan(exit=2))["jobId"]
    repo.apply()
    aws.assert_git({"fw": job_id})

    steps = [
        ("firmware/_defaults.yaml", "tags: {team: fw}\n"),  # the API default left out
        ("firmware/_defaults.yaml", defaults),  # and written again
        ("firmware/fw.yaml", manifest("1.0.0", "schedulingConfig: {}\n",
                                      targets="[thing/a, thing/b]")),
        ("firmware/fw.yaml", manifest("1.0.0", "schedulingConfig: {}\n"
                                      "destinationPackageVersions: []\n",
                                      targets="[thing/a, thing/b]")),
        ("firmware/fw.yaml", manifest("1.0.0", "destinationPackageVersions: []\n",
                                      targets="[thing/b, thing/a]")),
        ("firmware/fw.yaml", manifest("1.0.0", targets=f"[thing/b, '{thing_arn('a')}']")),
        ("firmware/_defaults.yaml", "tags: {team: fw}\ntargetSelection: SNAPSHOT\n"
                                    "schedulingConfig: {}\n"),
    ]
    for rel, text in steps:
        repo.write(rel, text)
        data = repo.plan(exit=0)
        no_changes(data, "fw")
        assert "CancelJob" not in data["apiCalls"]
        aws.assert_git({"fw": job_id})
    done = repo.apply()
    assert done["changes"] == [] and not set(done["apiCalls"]) & set(WRITES)
    (job,) = aws.jobs().values()
    assert job.job_id == job_id and job.status == "IN_PROGRESS"
    assert "rollouts:canceled-by" not in job.tags


# --- 4. a deleted manifest ---------------------------------------------------------------


def test_deleted_manifest__apply_without_then_with_prune__always_listed_canceled_with_prune(
        server: str, aws: Aws, tmp_path: Path) -> None:
    repo = Repo(tmp_path, server, {"fw.yaml": manifest("1.0.0"),
                                   "ops.yaml": "targets: [thing/ops-1]\ndocument: {op: noop}\n"})
    ids = {c["name"]: c["jobId"] for c in repo.plan(exit=2)["changes"]}
    repo.apply()
    aws.assert_git(ids)

    repo.remove("ops.yaml")
    data = repo.plan(exit=2)
    assert data["changes"] == []
    assert data["orphans"] == [{"name": "ops", "jobId": ids["ops"], "region": REGION,
                                "source": "rollouts/ops.yaml"}]
    assert counts(data) == {"orphaned": 1, "unchanged": 1}
    noted(data, "--prune")
    plain = repo.run("plan")
    assert plain.returncode == 0, plain.stdout + plain.stderr  # orphans are no error
    assert aws.job(ids["ops"]).status == "IN_PROGRESS"

    kept = repo.apply()  # without --prune: nothing is canceled
    assert kept["changes"] == [] and "CancelJob" not in kept["apiCalls"]
    aws.assert_git(ids)
    assert "rollouts:canceled-by" not in aws.job(ids["ops"]).tags

    pruned = repo.apply("--prune")
    cancel = only(pruned)
    assert cancel["action"] == "cancel" and cancel["jobId"] == ids["ops"]
    assert cancel["reason"] == "prune"
    assert operations(cancel) == ["TagResource", "CancelJob"]
    aws.assert_canceled_by(ids["ops"], "prune")
    aws.assert_git({"fw": ids["fw"]})
    no_changes(repo.plan(exit=0), "fw")
    no_changes(repo.plan("--prune", exit=0), "fw")


def test_deleted_manifest__prune_true_in_config__plan_shows_the_cancel_and_apply_makes_it(
        server: str, aws: Aws, tmp_path: Path) -> None:
    repo = Repo(tmp_path, server, {"fw.yaml": manifest("1.0.0"),
                                   "ops.yaml": "targets: [thing/ops-1]\ndocument: {op: noop}\n"},
                config="prune: true\n")
    ids = {c["name"]: c["jobId"] for c in repo.plan(exit=2)["changes"]}
    repo.apply()
    repo.remove("ops.yaml")
    data = repo.plan(exit=2)
    cancel = only(data)
    assert cancel["action"] == "cancel" and cancel["jobId"] == ids["ops"]
    assert cancel["reason"] == "prune"
    assert counts(data) == {"cancel": 1, "orphaned": 1, "unchanged": 1}
    assert aws.job(ids["ops"]).status == "IN_PROGRESS"  # the plan wrote nothing
    repo.apply()
    aws.assert_canceled_by(ids["ops"], "prune")
    aws.assert_git({"fw": ids["fw"]})
    no_changes(repo.plan(exit=0), "fw")


# --- 5. renames --------------------------------------------------------------------------


def test_rename__same_content__retags_the_same_job_and_creates_nothing(
        server: str, aws: Aws, tmp_path: Path) -> None:
    repo = Repo(tmp_path, server, {"fw.yaml": manifest("1.0.0")})
    job_id = only(repo.plan(exit=2))["jobId"]
    repo.apply()

    repo.rename("fw.yaml", "firmware.yaml")
    data = repo.plan(exit=2)
    rename = only(data)
    assert counts(data) == {"rename": 1}
    assert data["orphans"] == []
    assert rename["action"] == "rename" and rename["name"] == "firmware"
    assert rename["jobId"] == job_id and rename["renamedFrom"] == "fw"
    assert "CreateJob" not in operations(rename) and "CancelJob" not in operations(rename)
    done = repo.apply()
    assert "CreateJob" not in done["apiCalls"] and "CancelJob" not in done["apiCalls"]
    tags = aws.job(job_id).tags
    assert tags["rollouts:name"] == "firmware"
    assert tags["rollouts:source"] == "rollouts/firmware.yaml"
    assert len(aws.jobs()) == 1
    aws.assert_git({"firmware": job_id})
    no_changes(repo.plan(exit=0), "firmware")
    no_changes(repo.plan("--prune", exit=0), "firmware")


def test_rename__with_a_mutable_edit__renames_and_updates_the_same_job(
        server: str, aws: Aws, tmp_path: Path) -> None:
    repo = Repo(tmp_path, server, {"fw.yaml": manifest("1.0.0", "description: first\n")})
    job_id = only(repo.plan(exit=2))["jobId"]
    repo.apply()

    repo.remove("fw.yaml")
    repo.write("firmware.yaml", manifest("1.0.0", "description: second\n"))
    data = repo.plan(exit=2)
    rename = only(data)
    assert counts(data) == {"rename": 1}
    assert rename["jobId"] == job_id and rename["renamedFrom"] == "fw"
    assert {"path": "description", "before": "first", "after": "second"} in [
        {k: c[k] for k in ("path", "before", "after")} for c in rename["diff"]]
    assert "UpdateJob" in operations(rename) and "CreateJob" not in operations(rename)
    done = repo.apply()
    assert "CreateJob" not in done["apiCalls"]
    assert aws.describe(job_id)["description"] == "second"
    assert aws.job(job_id).tags["rollouts:name"] == "firmware"
    assert len(aws.jobs()) == 1
    aws.assert_git({"firmware": job_id})
    no_changes(repo.plan(exit=0), "firmware")


# --- 6. a region move --------------------------------------------------------------------


def test_region_move__old_region_known_only_to_the_ledger__orphan_pruned_only_with_prune(
        server: str, aws: Aws, tmp_path: Path) -> None:
    # The default region is the new one: only the ledger knows the old region.
    repo = Repo(tmp_path, server, {"fw.yaml": manifest("1.0.0", f"region: {REGION}\n")},
                region=OTHER_REGION)
    old = only(repo.plan(exit=2))["jobId"]
    repo.apply()
    aws.assert_git({"fw": old}, region=REGION)

    repo.write("fw.yaml", manifest("1.0.0", f"region: {OTHER_REGION}\n"))
    data = repo.plan(exit=2)
    create = only(data)
    assert create["action"] == "create" and create["region"] == OTHER_REGION
    new = create["jobId"]
    assert create["request"]["targets"] == [thing_arn("dev-1", OTHER_REGION)]
    assert data["orphans"] == [{"name": "fw", "jobId": old, "region": REGION,
                                "source": "rollouts/fw.yaml"}]
    assert counts(data) == {"create": 1, "orphaned": 1}

    repo.apply()  # without --prune the old job stays
    aws.assert_git({"fw": new}, region=OTHER_REGION)
    aws.assert_git({"fw": old}, region=REGION)
    data = repo.plan(exit=2)  # no manifest names the old region: the ledger does
    assert data["changes"] == []
    assert [o["jobId"] for o in data["orphans"]] == [old]

    pruned = repo.apply("--prune")
    cancel = only(pruned)
    assert cancel["action"] == "cancel" and cancel["region"] == REGION
    assert cancel["jobId"] == old and cancel["reason"] == "prune"
    aws.assert_canceled_by(old, "prune", region=REGION)
    aws.assert_git({}, region=REGION)
    aws.assert_git({"fw": new}, region=OTHER_REGION)
    no_changes(repo.plan(exit=0), "fw")
    no_changes(repo.plan("--prune", exit=0), "fw")


# --- 7. two projects in one account ------------------------------------------------------


def test_two_projects__same_rollout_names_in_one_account__never_touch_each_other(
        server: str, aws: Aws, tmp_path: Path) -> None:
    ops = "targets: [thing/ops-1]\ndocument: {op: noop}\n"
    alpha = Repo(tmp_path / "alpha", server, {"fw.yaml": manifest("1.0.0"), "ops.yaml": ops},
                 project="alpha")
    beta = Repo(tmp_path / "beta", server, {"fw.yaml": manifest("1.0.0"), "ops.yaml": ops,
                                            "extra.yaml": manifest("9.0.0")},
                project="beta")
    a_ids = {c["name"]: c["jobId"] for c in alpha.apply()["changes"]}

    data = beta.plan(exit=2)
    assert counts(data) == {"create": 3}  # neither a replace nor an adopt of alpha's jobs
    b_ids = {c["name"]: c["jobId"] for c in data["changes"]}
    assert b_ids["fw"] == f"{a_ids['fw']}-2" and b_ids["ops"] == f"{a_ids['ops']}-2"
    beta.apply()
    aws.assert_git(a_ids, project="alpha")
    aws.assert_git(b_ids, project="beta")
    assert aws.job(b_ids["fw"]).tags["rollouts:project"] == "beta"
    no_changes(alpha.plan("--prune", exit=0), "fw", "ops")
    no_changes(beta.plan("--prune", exit=0), "extra", "fw", "ops")

    beta.write("fw.yaml", manifest("2.0.0"))  # replaces beta's fw only
    replace = only(beta.plan(exit=2))
    assert replace["replaces"] == [b_ids["fw"]]
    beta.apply()
    b_ids["fw"] = replace["jobId"]
    alpha.remove("ops.yaml")  # an orphan of alpha's; beta's ops is still in git
    data = alpha.plan("--prune", exit=2)
    assert [(c["action"], c["jobId"]) for c in data["changes"]] == [("cancel", a_ids["ops"])]
    assert [o["jobId"] for o in data["orphans"]] == [a_ids["ops"]]
    alpha.apply("--prune")
    del a_ids["ops"]
    beta.remove("extra.yaml")
    data = beta.plan("--prune", exit=2)
    assert [(c["action"], c["jobId"]) for c in data["changes"]] == [("cancel", b_ids["extra"])]
    beta.apply("--prune")
    del b_ids["extra"]

    aws.assert_git(a_ids, project="alpha", documents={"fw": document("1.0.0")})
    aws.assert_git(b_ids, project="beta", documents={"fw": document("2.0.0")})
    no_changes(alpha.plan("--prune", exit=0), "fw")
    no_changes(beta.plan("--prune", exit=0), "fw", "ops")


# --- 8. applies from two commits -------------------------------------------------------


def test_applies_from_two_commits__one_after_another__the_last_applied_runs_alone(
        server: str, aws: Aws, tmp_path: Path) -> None:
    ledger = f"file://{tmp_path / 'shared-ledger.json'}"  # as one S3 ledger would be
    first = Repo(tmp_path / "first", server, {"fw.yaml": manifest("1.0.0")}, ledger=ledger)
    second = Repo(tmp_path / "second", server, {"fw.yaml": manifest("2.0.0")}, ledger=ledger)
    v1 = only(first.apply())["jobId"]
    aws.assert_git({"fw": v1}, documents={"fw": document("1.0.0")})

    replace = only(second.apply())
    assert replace["action"] == "replace" and replace["replaces"] == [v1]
    v2 = replace["jobId"]
    aws.assert_canceled_by(v1, f"replace:{v2}")
    aws.assert_git({"fw": v2}, documents={"fw": document("2.0.0")})
    no_changes(second.plan(exit=0), "fw")

    again = only(first.apply())  # the first commit applied again
    assert again["action"] == "replace"
    assert again["jobId"] == f"{v1}-2" and again["replaces"] == [v2]
    aws.assert_canceled_by(v2, f"replace:{v1}-2")
    aws.assert_git({"fw": f"{v1}-2"}, documents={"fw": document("1.0.0")})
    no_changes(first.plan(exit=0), "fw")


# --- 9. a job of the tool's previous version ---------------------------------------------


def legacy_job(aws: Aws, version: str) -> str:
    """A job as the first version made it: ``<name>-<8 hex>``, its name, hash (of another
    scheme) and source tags, and no project tag."""
    job_id = "fw-0badc0de"
    aws.iot().create_job(
        jobId=job_id, targets=[thing_arn("dev-1")],
        document=json.dumps(document(version), indent=2),
        tags=[{"Key": "rollouts:name", "Value": "fw"},
              {"Key": "rollouts:spec-hash", "Value": "ab" * 32},
              {"Key": "rollouts:source", "Value": "rollouts/fw.yaml"}])
    return job_id


def test_previous_version_job__same_content__adopted_not_replaced(
        server: str, aws: Aws, tmp_path: Path) -> None:
    old = legacy_job(aws, "1.0.0")
    repo = Repo(tmp_path, server, {"fw.yaml": manifest("1.0.0")})
    data = repo.plan(exit=2)
    adopt = only(data)
    assert counts(data) == {"adopt": 1}
    assert adopt["action"] == "adopt" and adopt["jobId"] == old
    assert "CreateJob" not in operations(adopt) and "CancelJob" not in operations(adopt)
    done = repo.apply()
    assert "CreateJob" not in done["apiCalls"] and "CancelJob" not in done["apiCalls"]
    tags = aws.job(old).tags
    assert tags["rollouts:project"] == PROJECT and tags["rollouts:name"] == "fw"
    assert HASH.fullmatch(tags["rollouts:spec-hash"]) and tags["rollouts:spec-hash"] != "ab" * 32
    aws.assert_git({"fw": old})
    assert len(aws.jobs()) == 1
    no_changes(repo.plan(exit=0), "fw")


def test_previous_version_job__other_document__replaced(
        server: str, aws: Aws, tmp_path: Path) -> None:
    old = legacy_job(aws, "0.9.0")
    repo = Repo(tmp_path, server, {"fw.yaml": manifest("1.0.0")})
    data = repo.plan(exit=2)
    replace = only(data)
    assert counts(data) == {"replace": 1}
    assert replace["replaces"] == [old] and replace["jobId"] != old
    repo.apply()
    aws.assert_canceled_by(old, f"replace:{replace['jobId']}")
    aws.assert_git({"fw": replace["jobId"]}, documents={"fw": document("1.0.0")})
    no_changes(repo.plan(exit=0), "fw")


# --- 10. the ledger ----------------------------------------------------------------------


def test_ledger__job_deleted_from_aws__not_created_again(
        server: str, aws: Aws, tmp_path: Path) -> None:
    repo = Repo(tmp_path, server, {"fw.yaml": manifest("1.0.0")})
    job_id = only(repo.apply())["jobId"]
    aws.iot().delete_job(jobId=job_id, force=True)
    data = repo.plan(exit=0)
    no_changes(data, "fw")
    noted(data, job_id, "ledger")
    done = repo.apply()
    assert done["changes"] == [] and "CreateJob" not in done["apiCalls"]
    assert aws.jobs() == {}


@pytest.mark.parametrize("text", ["", "  \n\t\n"], ids=["empty", "whitespace"])
def test_ledger__empty_or_whitespace_file__ledger_error_and_nothing_created(
        server: str, aws: Aws, tmp_path: Path, text: str) -> None:
    repo = Repo(tmp_path, server, {"fw.yaml": manifest("1.0.0")})
    (tmp_path / "ledger.json").write_text(text)
    for command in (("plan",), ("plan", "--detailed-exitcode"), ("apply", "--auto-approve")):
        error = repo.fails(*command)
        assert error["code"] == "LEDGER_ERROR", error
        assert "ledger" in error["message"]
    assert aws.jobs() == {}
    assert (tmp_path / "ledger.json").read_text() == text  # never rewritten as empty


def test_ledger__path_is_a_directory__ledger_error_without_traceback(
        server: str, aws: Aws, tmp_path: Path) -> None:
    repo = Repo(tmp_path, server, {"fw.yaml": manifest("1.0.0")})
    (tmp_path / "ledger.json").mkdir()
    for command in (("plan",), ("apply", "--auto-approve")):
        error = repo.fails(*command)
        assert error["code"] == "LEDGER_ERROR", error
        assert "directory" in error["message"]
    assert aws.jobs() == {}


# --- 11. completed jobs ------------------------------------------------------------------


def complete(job_id: str) -> None:
    """Devices finished the job. The moto server runs in this process, so its backend is
    this process's."""
    from engine.sandbox import moto_jobs

    moto_jobs.set_job_status(job_id, "COMPLETED", account=ACCOUNT, region=REGION)


def test_completed_job__edit_revert_rerun__nothing_other_canceled_then_a_new_job(
        server: str, aws: Aws, tmp_path: Path) -> None:
    repo = Repo(tmp_path, server, {"fw.yaml": manifest("1.0.0", "description: first\n")})
    v1 = only(repo.apply())["jobId"]
    complete(v1)
    no_changes(repo.plan(exit=0), "fw")

    repo.write("fw.yaml", manifest("1.0.0", "description: second\n"))  # a mutable edit
    no_changes(repo.plan(exit=0), "fw")
    done = repo.apply()
    assert done["changes"] == [] and not set(done["apiCalls"]) & set(WRITES)
    assert aws.describe(v1)["description"] == "first"
    aws.assert_git({})

    repo.write("fw.yaml", manifest("2.0.0", "description: second\n"))
    create = only(repo.plan(exit=2))
    assert create["action"] == "create"  # nothing active to replace
    v2 = create["jobId"]
    repo.apply()
    aws.assert_git({"fw": v2})

    repo.write("fw.yaml", manifest("1.0.0", "description: second\n"))  # revert to v1
    data = repo.plan(exit=2)
    cancel = only(data)
    assert counts(data) == {"cancel": 1, "unchanged": 1}
    assert cancel["action"] == "cancel" and cancel["jobId"] == v2
    assert cancel["reason"] == f"replace:{v1}"
    noted(data, v1, "rerun")
    done = repo.apply()
    assert "CreateJob" not in done["apiCalls"]
    aws.assert_canceled_by(v2, f"replace:{v1}")
    assert aws.job(v1).status == "COMPLETED"
    aws.assert_git({})
    data = repo.plan(exit=0)
    assert data["changes"] == [] and data["orphans"] == []
    noted(data, v1, "rerun")

    repo.write("fw.yaml", manifest("1.0.0", "description: second\nrerun: 1\n"))
    data = repo.plan(exit=2)
    rerun = only(data)
    assert counts(data) == {"create": 1}
    assert rerun["action"] == "create" and rerun["jobId"] not in (v1, f"{v1}-2", v2)
    repo.apply()
    aws.assert_git({"fw": rerun["jobId"]}, documents={"fw": document("1.0.0")})
    no_changes(repo.plan(exit=0), "fw")


# --- 12. a job canceled by hand ----------------------------------------------------------


def test_job_canceled_by_hand__plan_and_revert_to_it__never_created_again(
        server: str, aws: Aws, tmp_path: Path) -> None:
    repo = Repo(tmp_path, server, {"fw.yaml": manifest("1.0.0")})
    v1 = only(repo.apply())["jobId"]
    aws.iot().cancel_job(jobId=v1, comment="bricking devices")
    data = repo.plan(exit=0)
    no_changes(data, "fw")
    noted(data, v1, "rerun")
    done = repo.apply()
    assert done["changes"] == [] and "CreateJob" not in done["apiCalls"]
    aws.assert_git({})

    repo.write("fw.yaml", manifest("2.0.0"))
    v2 = only(repo.apply())["jobId"]
    aws.assert_git({"fw": v2})
    repo.write("fw.yaml", manifest("1.0.0"))  # back to the revision a hand stopped
    data = repo.plan(exit=2)
    cancel = only(data)
    assert cancel["action"] == "cancel" and cancel["jobId"] == v2
    noted(data, v1, "rerun")
    done = repo.apply()
    assert "CreateJob" not in done["apiCalls"]
    aws.assert_canceled_by(v2, f"replace:{v1}")
    assert "rollouts:canceled-by" not in aws.job(v1).tags
    aws.assert_git({})
    data = repo.plan(exit=0)
    assert data["changes"] == [] and data["orphans"] == []
