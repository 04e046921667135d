"""``rollouts validate`` on the rules of issue 10, as a user runs it: one run shows every
problem at its file and line, and no input makes it print a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from .test_cli import rollouts

Tree = Callable[[dict[str, str]], Path]


def _errors(root: Path) -> list[str]:
    done = rollouts("validate", str(root))
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert done.returncode == 1, done.stdout
    return done.stdout.splitlines()


def _has(lines: list[str], *fragments: str) -> bool:
    return any(all(f in line for f in fragments) for line in lines)


def test_validate__maintenance_window_not_cron__error_at_its_line(write_tree: Tree) -> None:
    root = write_tree({"mw.yaml": "targets: [thing/dev-1]\ndocument: {op: x}\n"
                                  "schedulingConfig:\n  startTime: 2027-06-01T22:00\n"
                                  "  maintenanceWindows:\n"
                                  "    - startTime: 'every night please'\n"
                                  "      durationInMinutes: 60\n"})
    lines = _errors(root)
    assert _has(lines, "mw.yaml:6:18", "schedulingConfig.maintenanceWindows[0].startTime",
                "AWS cron syntax with six fields"), lines


def test_validate__managed_template_typo_and_region__did_you_mean(write_tree: Tree) -> None:
    root = write_tree({
        "_config.yaml": "region: eu-west-1\n",
        "run.yaml": "targets: [thing/dev-1]\n"
                    "jobTemplateArn: arn:aws:iot:us-east-1::jobtemplate/AWS-Run-Command:1.0\n"
                    "documentParameters:\n  comand: ls\n",
        "odd.yaml": "targets: [thing/dev-1]\n"
                    "jobTemplateArn: arn:aws:iot:eu-west-1::jobtemplate/AWS-Reboots:1.0\n"})
    lines = _errors(root)
    assert _has(lines, "run.yaml:4:3", "unknown parameter comand of AWS-Run-Command; "
                "did you mean command?"), lines
    assert _has(lines, "run.yaml:3:1", "needs the parameter command"), lines
    assert _has(lines, "run.yaml:2:", "region 'us-east-1' but the job runs in eu-west-1"), lines
    assert _has(lines, "odd.yaml:2:", "unknown AWS managed template AWS-Reboots",
                "AWS-Download-File, AWS-Install-Application"), lines


def test_validate__retries_over_ten_in_all__error(write_tree: Tree) -> None:
    root = write_tree({"r.yaml": "targets: [thing/dev-1]\ndocument: {op: x}\n"
                                 "jobExecutionsRetryConfig:\n  criteriaList:\n"
                                 "    - {failureType: FAILED, numberOfRetries: 10}\n"
                                 "    - {failureType: TIMED_OUT, numberOfRetries: 10}\n"})
    lines = _errors(root)
    assert _has(lines, "r.yaml:4:3", "jobExecutionsRetryConfig.criteriaList",
                "at most 10 retries of all failure types together"), lines


def test_validate__json_output_of_a_rule_error__names_line_and_path(write_tree: Tree) -> None:
    root = write_tree({"r.yaml": "targets: [thing/dev-1]\ndocument: {op: x}\n"
                                 "jobExecutionsRetryConfig:\n  criteriaList:\n"
                                 "    - {failureType: FAILED, numberOfRetries: 6}\n"
                                 "    - {failureType: TIMED_OUT, numberOfRetries: 5}\n"})
    body = json.loads(rollouts("validate", str(root), "-o", "json").stdout)
    (detail,) = body["error"]["details"]
    assert (detail["line"], detail["path"]) == (4, "jobExecutionsRetryConfig.criteriaList")


def test_validate__type_errors_hide_nothing__one_run_shows_every_problem() -> None:
    from .conftest import FIXTURES

    lines = _errors(FIXTURES / "bad" / "one-run-shows-all")
    for where, words in [("job.yaml:1:", "already targets[0]"),
                         ("job.yaml:2:", "duplicate key 'a'"),
                         ("job.yaml:4:", "expected a whole number"),  # a type error
                         ("job.yaml:5:", "unknown key abortConfg"),
                         ("job.yaml:7:", "endTime needs a startTime"),  # rules of the job
                         ("job.yaml:12:", "give exactly one of"),
                         ("other.yaml:1:", "expected a list"),
                         ("other.yaml:3:", "did you mean runAsUser?"),
                         ("other.yaml:4:", "expected text")]:
        assert _has(lines, where, words), (where, lines)
    assert lines[-1].startswith("9 errors in 2 files"), lines[-1]


def test_validate__exclude_globs__files_neither_validated_nor_planned(tmp_path: Path) -> None:
    from .conftest import make_repo

    root = make_repo(tmp_path, {
        "fw/job.yaml": "targets: [thing/dev-1]\ndocument: {op: x}\n",
        "fw/documents/reboot.yaml": "version: 1\nsteps: [{action: reboot}]\n",
        "documents/deep/more.yaml": "not: a manifest\n"})
    (root / "_config.yaml").write_text("region: eu-west-1\nexclude:\n  - '**/documents/**'\n")
    done = rollouts("validate", str(root), "-o", "json")
    assert done.returncode == 0, done.stdout
    assert [j["name"] for j in json.loads(done.stdout)["data"]["jobs"]] == ["job"]
    sub = rollouts("validate", str(root / "fw"), "-o", "json")  # globs from the top folder
    assert [j["name"] for j in json.loads(sub.stdout)["data"]["jobs"]] == ["job"]
    (root / "_config.yaml").write_text("region: eu-west-1\nexclude:\n  - /documents/**\n")
    lines = _errors(root)
    assert _has(lines, "_config.yaml:3:5", "exclude[0]", "remove the leading /"), lines
