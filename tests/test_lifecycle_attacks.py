"""Hostile sequences against the rollout layer (DESIGN.md sections 3-6): odd orders of
edits, renames, swaps, pins, crashes, hand cancels, first-version jobs, subfolder plans,
damaged ledgers and inputs the CLI must answer with one line, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from engine.aws import AwsError, Connection, IotApi
from engine.errors import InvalidManifests
from engine.ledger import FileLedger
from engine.sandbox import moto_jobs
from engine.workflow import PlanRun, apply_run, plan_folder

from .conftest import REGION, cli_env, make_repo

PROJECT = "acme"


def doc(version: str, extra: str = "", targets: str = "[thing/dev-1]") -> str:
    return (f"targets: {targets}\n"
            f"document: {{operation: fw, version: '{version}'}}\n{extra}")


def repo_at(base: Path, files: dict[str, str], config: str = "") -> Path:
    root = make_repo(base, files)
    (root / "_config.yaml").write_text(f"region: {REGION}\nproject: {PROJECT}\n{config}")
    return root


def plan(root: Path, *, prune: bool = False) -> PlanRun:
    return plan_folder(root, Connection(region=REGION, rate=0), prune=prune,
                       ledger_override=FileLedger(root.parent / "ledger.json"))


def apply(root: Path, *, prune: bool = False) -> PlanRun:
    run = plan(root, prune=prune)
    outcomes = apply_run(run)
    assert all(o.ok for o in outcomes), [o.message for o in outcomes]
    return run


def jobs(region: str = REGION) -> dict[str, str]:
    return {j: job.status for j, job in moto_jobs.backend(region=region).jobs.items()}


def tags_of(job_id: str, region: str = REGION) -> dict[str, str]:
    backend = moto_jobs.backend(region=region)
    return dict(moto_jobs.job_tags(backend).get(backend.jobs[job_id].job_arn, {}))


def active_by_name(region: str = REGION) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for job_id, status in jobs(region).items():
        name = tags_of(job_id, region).get("rollouts:name")
        if status in ("IN_PROGRESS", "SCHEDULED") and name:
            out.setdefault(name, []).append(job_id)
    return out


def document_of(job_id: str) -> Any:
    return json.loads(moto_jobs.backend().jobs[job_id].document)


def assert_converged(root: Path, expected: dict[str, str]) -> None:
    """The invariant: one active job per rollout, running git's version; plan says nothing."""
    active = active_by_name()
    assert sorted(active) == sorted(expected), active
    for name, version in expected.items():
        assert len(active[name]) == 1, active
        assert document_of(active[name][0])["version"] == version, (name, active)
    again = plan(root).plan
    assert again.changes == () and again.orphans == (), again.actions


# --- 1. a pin added (or changed) while the content stays --------------------------------


def test_pin_added__same_content__the_only_job_is_not_canceled_without_a_successor(
        aws: None, tmp_path: Path) -> None:
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0")})
    apply(root)
    (_old,) = jobs()
    (root / "fw.yaml").write_text(doc("1.0", "jobId: fw-pinned\n"))
    run = plan(root)
    # The plan must not say that a job AWS holds, active, is "gone from AWS".
    assert not [n for n in run.plan.notes if "gone from AWS" in n], run.plan.notes
    outcomes = apply_run(run)
    assert all(o.ok for o in outcomes), [o.message for o in outcomes]
    assert_converged(root, {"fw": "1.0"})


def test_pinned_id_changed__same_content__one_active_job_after_apply(
        aws: None, tmp_path: Path) -> None:
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0", "jobId: fw-a\n")})
    apply(root)
    (root / "fw.yaml").write_text(doc("1.0", "jobId: fw-b\n"))
    apply(root)
    assert_converged(root, {"fw": "1.0"})


# --- 2. a pinned jobId equal to another rollout's derived id ----------------------------


def test_pinned_id_equal_to_another_rollouts_derived_id__validation_error(
        aws: None, tmp_path: Path) -> None:
    root = repo_at(tmp_path, {"a.yaml": doc("1.0")})
    derived = plan(root).desired[0].job_id  # a-<hash8>
    (root / "b.yaml").write_text(doc("2.0", f"jobId: {derived}\n"))
    with pytest.raises(InvalidManifests) as caught:
        plan(root)
    assert any(derived in p.message for p in caught.value.problems), caught.value.problems


def test_pinned_id_equal_to_another_rollouts_derived_id_same_content__never_converges(
        aws: None, tmp_path: Path) -> None:
    """Where the rule above is missing: two rollouts share one job, and every plan after
    renames it back and forth."""
    root = repo_at(tmp_path, {"a.yaml": doc("1.0")})
    derived = plan(root).desired[0].job_id
    (root / "b.yaml").write_text(doc("1.0", f"jobId: {derived}\n"))
    try:
        run = plan(root)
    except InvalidManifests:
        return  # refused, as DESIGN.md section 2 asks
    apply_run(run)
    for _ in range(2):
        again = plan(root).plan
        assert again.changes == (), [(a.verb, a.name, a.job_id) for a in again.changes]
        apply_run(plan(root))


# --- 3. crashes and concurrent applies -----------------------------------------------------


def test_create_fails_after_the_cancel__rerun_converges(
        aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0")})
    apply(root)
    (root / "fw.yaml").write_text(doc("2.0"))
    original = IotApi.call

    def failing(self: IotApi, operation: str, **params: Any) -> dict[str, Any]:
        if operation == "CreateJob":
            raise AwsError(operation, "InternalFailure", "injected")
        return original(self, operation, **params)

    run = plan(root)
    monkeypatch.setattr(IotApi, "call", failing)
    assert not all(o.ok for o in apply_run(run))
    monkeypatch.setattr(IotApi, "call", original)
    apply(root)
    assert_converged(root, {"fw": "2.0"})


def test_two_applies_at_once_from_two_commits__the_next_apply_leaves_one_active_job(
        aws: None, tmp_path: Path) -> None:
    """CI's concurrency group aside, two applies planned at once from two commits each
    replace the old revision with theirs; the next apply (the scheduled one, or the next
    merge) restores the invariant: one running job, git's."""
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0")})
    apply(root)
    (root / "fw.yaml").write_text(doc("2.0"))
    from_a = plan(root)
    (root / "fw.yaml").write_text(doc("3.0"))
    from_b = plan(root)
    apply_run(from_a)
    apply_run(from_b)
    apply(root)
    assert [len(ids) for ids in active_by_name().values()] == [1], active_by_name()
    assert_converged(root, {"fw": "3.0"})


def hand_cancel(job_id: str) -> None:
    boto3.client("iot", region_name=REGION).cancel_job(jobId=job_id, comment="stop: bricks")


def test_apply_killed_between_mark_and_cancel__revert__later_hand_cancel_is_respected(
        aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An apply dies after TagResource(canceled-by) and before CancelJob; git is reverted, so
    the job stays git's. Weeks later an operator cancels it by hand: it must not be re-run."""
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0")})
    apply(root)
    (v1,) = jobs()
    (root / "fw.yaml").write_text(doc("2.0"))
    original = IotApi.call

    def killed(self: IotApi, operation: str, **params: Any) -> dict[str, Any]:
        if operation == "CancelJob":
            raise KeyboardInterrupt  # the process dies here
        return original(self, operation, **params)

    run = plan(root)
    monkeypatch.setattr(IotApi, "call", killed)
    with pytest.raises(KeyboardInterrupt):
        from engine.apply import Context, execute
        execute(Context(run.apis, run.ledger, None, PROJECT, run.account), run.plan.changes[0])
    monkeypatch.setattr(IotApi, "call", original)
    (root / "fw.yaml").write_text(doc("1.0"))  # revert before any rerun
    assert_converged(root, {"fw": "1.0"})
    hand_cancel(v1)
    after = plan(root).plan
    assert after.changes == (), [(a.verb, a.job_id) for a in after.changes]


def test_job_canceled_by_hand_between_plan_and_apply__then_revert__not_re_run(
        aws: None, tmp_path: Path) -> None:
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0")})
    apply(root)
    (v1,) = jobs()
    (root / "fw.yaml").write_text(doc("2.0"))
    run = plan(root)
    hand_cancel(v1)  # the operator stops 1.0 while the replace is on its way
    apply_run(run)
    (root / "fw.yaml").write_text(doc("1.0"))
    after = plan(root).plan
    assert not [a for a in after.changes if a.verb in ("create", "replace")], \
        [(a.verb, a.job_id) for a in after.changes]


# --- 4. planning a subfolder ----------------------------------------------------------------


def test_subfolder_plan__uses_the_top_config__in_sync_subtree_has_no_changes(
        aws: None, tmp_path: Path) -> None:
    """DESIGN.md 4: `plan rollouts/firmware` plans that subtree with the top _config.yaml
    (its project, ledger and region)."""
    root = repo_at(tmp_path, {"app.yaml": doc("1.0"), "firmware/fw.yaml": doc("1.0")},
                   config="ledger: file://ledger.json\n")
    apply(root)
    run = plan_folder(root / "firmware", Connection(rate=0))  # no --region: the config's
    assert run.project == PROJECT
    assert run.plan.changes == (), [(a.verb, a.job_id) for a in run.plan.changes]


def test_subfolder_plan__given_a_region__never_creates_a_second_job_for_a_rollout(
        aws: None, tmp_path: Path) -> None:
    root = repo_at(tmp_path, {"app.yaml": doc("1.0"), "firmware/fw.yaml": doc("1.0")})
    apply(root)
    run = plan_folder(root / "firmware", Connection(region=REGION, rate=0))
    apply_run(run)
    assert [len(ids) for ids in active_by_name().values()] == [1, 1], active_by_name()


def test_subfolder_plan__top_defaults_apply__no_replace(aws: None, tmp_path: Path) -> None:
    root = repo_at(tmp_path, {"_defaults.yaml": "targetSelection: CONTINUOUS\n",
                              "firmware/fw.yaml": doc("1.0")})
    apply(root)
    run = plan_folder(root / "firmware", Connection(region=REGION, rate=0))
    assert run.plan.changes == (), [(a.verb, a.job_id) for a in run.plan.changes]


def test_subfolder_plan__manifest_moved_out_of_it__not_an_orphan_and_not_pruned(
        aws: None, tmp_path: Path) -> None:
    """The rollout is still in git, one folder up: a plan of the subfolder must neither
    call its job an orphan nor cancel it."""
    root = make_repo(tmp_path, {"firmware/fw.yaml": doc("1.0")})  # project: the folder's
    apply(root)
    (root / "firmware" / "other.yaml").write_text(doc("1.0", targets="[thing/dev-2]"))
    (root / "firmware" / "fw.yaml").rename(root / "fw.yaml")
    run = plan_folder(root / "firmware", Connection(region=REGION, rate=0), prune=True,
                      ledger_override=FileLedger(root.parent / "ledger.json"))
    assert run.plan.orphans == ()
    assert not [a for a in run.plan.changes if a.verb == "cancel"], run.plan.changes


# --- 5. jobs made by the tool's first version (name and spec-hash tags, no project) ------


def legacy_job(job_id: str, name: str, version: str, target: str = "dev-1") -> None:
    """A job as the first version made it: the same request, no rollouts:project tag."""
    boto3.client("iot", region_name=REGION).create_job(
        jobId=job_id, targets=[f"arn:aws:iot:{REGION}:123456789012:thing/{target}"],
        document=json.dumps({"operation": "fw", "version": version}),
        tags=[{"Key": "rollouts:name", "Value": name},
              {"Key": "rollouts:spec-hash", "Value": "0" * 64}])


def test_first_version_pinned_job__pin_removed_with_same_content__not_run_twice(
        aws: None, tmp_path: Path) -> None:
    """Identity is by content, whatever the id: the first version's job under a pinned id
    is git's revision once the pin leaves the manifest."""
    legacy_job("fw-release-7", "fw", "1.0")
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0")})
    apply(root)
    running = [j for j, s in jobs().items() if s == "IN_PROGRESS"]
    assert running == ["fw-release-7"], running


def test_first_version_job__other_content_under_a_non_derived_id__replaced_not_doubled(
        aws: None, tmp_path: Path) -> None:
    legacy_job("fw-release-7", "fw", "0.9")
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0")})
    apply(root)
    running = sorted(j for j, s in jobs().items() if s == "IN_PROGRESS")
    assert len(running) == 1 and running != ["fw-release-7"], running


# --- 6. renames to names used before --------------------------------------------------------


def test_rename_then_the_old_name_returns_with_the_same_content__both_rollouts_run(
        aws: None, tmp_path: Path) -> None:
    """a is renamed b (its job is taken over by b); later a comes back, same content. The
    ledger's record of a's first job must not make a "already applied, gone from AWS":
    AWS holds that job, and it is b's."""
    root = repo_at(tmp_path, {"a.yaml": doc("1.0")})
    apply(root)
    (root / "a.yaml").rename(root / "b.yaml")
    apply(root)
    (root / "a.yaml").write_text(doc("1.0"))
    run = plan(root)
    assert not [n for n in run.plan.notes if "gone from AWS" in n], run.plan.notes
    apply_run(run)
    assert_converged(root, {"a": "1.0", "b": "1.0"})


# --- 7. the CLI: one JSON document, no traceback ---------------------------------------------


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd, env=cli_env(),
                          capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL, timeout=120)


def assert_json_failure(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert "Traceback" not in done.stderr, done.stderr[-600:]
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr[-600:])
    try:
        body: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"stdout is not one JSON document: {done.stdout!r}")
    assert body["success"] is False, body
    return body



@pytest.fixture
def cli_repo(tmp_path: Path) -> Path:
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0"), "firmware/b.yaml": doc("2.0")},
                   config="ledger: file://ledger.json\n")
    return root.parent


@pytest.mark.parametrize("endpoint", ["notaurl", "http://[::1", "ftp//x"])
def test_cli_malformed_endpoint_url__one_line_error_no_traceback(
        cli_repo: Path, endpoint: str) -> None:
    assert_json_failure(run_cli(cli_repo, "plan", "--endpoint-url", endpoint,
                                "--output", "json"))


def test_cli_status_malformed_endpoint_url__no_traceback(cli_repo: Path) -> None:
    assert_json_failure(run_cli(cli_repo, "status", "--endpoint-url", "notaurl",
                                "--output", "json"))


def test_cli_region_flag_not_a_region__no_traceback(cli_repo: Path, server: str) -> None:
    assert_json_failure(run_cli(cli_repo, "plan", "--region", "eu west 1", "--endpoint-url",
                                server, "--output", "json"))


def test_cli_ledger_record_with_a_bad_region__ledger_error_not_traceback(
        cli_repo: Path, server: str) -> None:
    (cli_repo / "ledger.json").write_text(json.dumps({"version": 2, "records": [
        {"event": "create", "jobId": "j", "name": "fw", "specHash": "x", "region": "eu west 1",
         "at": "2026-01-01T00:00:00+00:00", "project": PROJECT}]}))
    assert_json_failure(run_cli(cli_repo, "plan", "--endpoint-url", server, "--output", "json"))


def test_cli_ledger_nested_too_deep__ledger_error_not_traceback(
        cli_repo: Path, server: str) -> None:
    (cli_repo / "ledger.json").write_text("[" * 100_000)
    body = assert_json_failure(run_cli(cli_repo, "plan", "--endpoint-url", server,
                                       "--output", "json"))
    assert body["error"]["code"] == "LEDGER_ERROR", body


def test_cli_saved_plan_nested_too_deep__plan_error_not_traceback(cli_repo: Path) -> None:
    (cli_repo / "plan.json").write_text("[" * 100_000)
    assert_json_failure(run_cli(cli_repo, "apply", "plan.json", "--output", "json"))


@pytest.mark.parametrize("out", ["a-directory", "missing/dir/plan.json"])
def test_cli_plan_out_unwritable__one_json_error_no_traceback(
        cli_repo: Path, server: str, out: str) -> None:
    (cli_repo / "a-directory").mkdir()
    assert_json_failure(run_cli(cli_repo, "plan", "--out", out, "--endpoint-url", server,
                                "--output", "json"))


@pytest.mark.parametrize("state", ["garbage", '{"regions": []}',
                                   '{"regions": {"eu-west-1": [{"jobId": "x"}]}}'])
def test_cli_sandbox_state_damaged__one_json_error_no_traceback(
        cli_repo: Path, state: str) -> None:
    (cli_repo / ".rollouts-sandbox").mkdir()
    (cli_repo / ".rollouts-sandbox" / "state.json").write_text(state)
    assert_json_failure(run_cli(cli_repo, "plan", "--sandbox", "--output", "json"))


def test_cli_sandbox_folder_is_a_file__no_traceback(cli_repo: Path) -> None:
    (cli_repo / ".rollouts-sandbox").write_text("")
    assert_json_failure(run_cli(cli_repo, "plan", "--sandbox", "--output", "json"))


def test_cli_plan_of_a_subfolder__uses_the_top_config(cli_repo: Path, server: str) -> None:
    done = run_cli(cli_repo, "plan", "rollouts/firmware", "--endpoint-url", server,
                   "--output", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["data"]["project"] == PROJECT


def test_cli_run_from_a_subfolder_without_dir__finds_the_rollouts_folder(
        cli_repo: Path, server: str) -> None:
    """DESIGN.md 4: DIR defaults to rollouts/, found from the current folder upwards."""
    done = run_cli(cli_repo / "rollouts" / "firmware", "plan", "--endpoint-url", server,
                   "--output", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["data"]["summary"]["create"] == 2


def test_cli_region_from_the_environment__used_when_config_has_none(
        tmp_path: Path, server: str) -> None:
    """DESIGN.md 4: --region, else _config.yaml's, else AWS_REGION / AWS_DEFAULT_REGION."""
    root = make_repo(tmp_path, {"fw.yaml": doc("1.0")})
    (root / "_config.yaml").write_text(f"project: {PROJECT}\n")
    done = run_cli(tmp_path, "plan", "--endpoint-url", server, "--output", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["data"]["changes"][0]["region"] == REGION


def test_rename_of_a_completed_rollout__not_run_again(aws: None, tmp_path: Path) -> None:
    """A COMPLETED job is done and is not run again (DESIGN.md 3); a rename of its manifest,
    content unchanged, must not roll the same firmware out to the fleet a second time."""
    root = repo_at(tmp_path, {"a.yaml": doc("1.0")})
    apply(root)
    (done,) = jobs()
    moto_jobs.set_job_status(done, "COMPLETED")
    (root / "a.yaml").rename(root / "b.yaml")
    run = plan(root)
    assert not [a for a in run.plan.changes if a.verb in ("create", "replace")], \
        [(a.verb, a.job_id) for a in run.plan.changes]


def test_rename_of_a_rollout_canceled_by_hand__not_re_created(
        aws: None, tmp_path: Path) -> None:
    root = repo_at(tmp_path, {"a.yaml": doc("1.0")})
    apply(root)
    (stopped,) = jobs()
    hand_cancel(stopped)
    (root / "a.yaml").rename(root / "b.yaml")
    run = plan(root)
    assert not [a for a in run.plan.changes if a.verb in ("create", "replace")], \
        [(a.verb, a.job_id) for a in run.plan.changes]


def test_two_rollouts_swap_names__jobs_retagged_nothing_re_run(
        aws: None, tmp_path: Path) -> None:
    """Content decides identity: a swap of two names, contents unchanged, re-tags the two
    running jobs; no firmware is rolled out again."""
    root = repo_at(tmp_path, {"a.yaml": doc("1.0"), "b.yaml": doc("2.0")})
    apply(root)
    before = set(jobs())
    (root / "a.yaml").write_text(doc("2.0"))
    (root / "b.yaml").write_text(doc("1.0"))
    apply(root)
    assert set(jobs()) == before, jobs()
    assert_converged(root, {"a": "2.0", "b": "1.0"})


def test_pinned_rollout_renamed__its_job_is_renamed_not_also_an_orphan(
        aws: None, tmp_path: Path) -> None:
    """a (jobId p-1) becomes b (jobId p-1), same content: one rename; the job is b's, so it
    is no orphan, and --prune must not cancel it."""
    root = repo_at(tmp_path, {"a.yaml": doc("1.0", "jobId: p-1\n")})
    apply(root)
    (root / "a.yaml").rename(root / "b.yaml")
    run = plan(root, prune=True)
    assert [(a.verb, a.job_id) for a in run.plan.changes] == [("rename", "p-1")]
    assert run.plan.orphans == ()
    apply_run(run)
    assert_converged(root, {"b": "1.0"})


@pytest.fixture
def plain_web_server() -> Any:
    """An HTTP server that implements no AWS operation (501 HTML for POST, 404 for GET)."""
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_cli_endpoint_that_implements_no_operation__aws_error_not_traceback(
        cli_repo: Path, plain_web_server: str) -> None:
    body = assert_json_failure(run_cli(cli_repo, "plan", "--endpoint-url", plain_web_server,
                                       "--output", "json"))
    assert body["error"]["code"] == "AWS_ERROR", body


def test_cli_usage_error_with_json_output__one_json_document_and_exit_1(
        cli_repo: Path) -> None:
    """A mistyped flag in CI: exit 2 would read as "changes" under --detailed-exitcode."""
    assert_json_failure(run_cli(cli_repo, "plan", "--output", "json", "--detailed-exitcode",
                                "--prunee"))


def test_cli_apply_without_a_terminal__error_code_is_a_documented_one(
        cli_repo: Path, server: str) -> None:
    body = assert_json_failure(run_cli(cli_repo, "apply", "--endpoint-url", server,
                                       "--output", "json"))
    assert body["error"]["code"] in ("VALIDATION_ERROR", "POLICY_VIOLATION", "CONFLICT",
                                     "PLAN_ERROR", "STALE_PLAN", "AWS_ERROR", "LEDGER_ERROR",
                                     "CONFIG_ERROR", "APPLY_FAILED"), body


def test_cli_validate_a_fifo_named_yaml__an_error_not_a_hang(cli_repo: Path) -> None:
    import os

    os.mkfifo(cli_repo / "rollouts" / "pipe.yaml")
    try:
        done = run_cli_within(cli_repo, 20, "validate", "--output", "json")
    except subprocess.TimeoutExpired:
        pytest.fail("validate hung on a FIFO named pipe.yaml")
    assert_json_failure(done)


def run_cli_within(cwd: Path, seconds: float, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd, env=cli_env(),
                          capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL, timeout=seconds)


def test_rename_to_a_name_whose_old_job_the_tool_canceled__takes_over_not_re_run(
        aws: None, tmp_path: Path) -> None:
    """a and b run the same content; a is deleted (pruned); then b is renamed a. b's running
    job is taken over (rename); a's pruned job is not rolled out again beside it."""
    root = repo_at(tmp_path, {"a.yaml": doc("1.0"), "b.yaml": doc("1.0")})
    apply(root)
    (root / "a.yaml").unlink()
    apply(root, prune=True)
    running = {j for j, s in jobs().items() if s == "IN_PROGRESS"}
    (root / "b.yaml").rename(root / "a.yaml")
    run = plan(root, prune=True)
    assert [a.verb for a in run.plan.changes] == ["rename"], \
        [(a.verb, a.job_id) for a in run.plan.changes]
    apply_run(run)
    assert {j for j, s in jobs().items() if s == "IN_PROGRESS"} == running
    assert_converged(root, {"a": "1.0"})


def test_cli_status_watch_with_json_output__exactly_one_json_document(
        tmp_path: Path) -> None:
    root = repo_at(tmp_path, {"fw.yaml": doc("1.0", targets="[thinggroup/g1]")})
    applied = run_cli(root.parent, "apply", "--sandbox", "--auto-approve", "--output", "json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    done = run_cli(root.parent, "status", "--sandbox", "--watch", "--interval", "0.1",
                   "--output", "json")
    assert done.returncode == 0, done.stderr
    try:
        body = json.loads(done.stdout)
    except ValueError as exc:
        pytest.fail(f"stdout is not one JSON document ({exc}): {done.stdout[:300]!r}...")
    assert body["success"] is True
