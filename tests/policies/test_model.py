"""``_policies.yaml`` that cannot be used: a CONFIG_ERROR at its own line, found before any
manifest is judged."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import failure_code

from .helpers import JOB, judged, lines

# A policies file whose second policy is broken as named; the problem's line and words.
BROKEN = {
    "does-not-compile": ("rule: \"job.targets.exists(t, \"", 5, "does not compile"),
    "unknown-job-field": ("rule: \"has(job.abortConfg)\"", 5,
                          "a CreateJob request has no field abortConfg; did you mean "
                          "abortConfig?"),
    "unknown-nested-field": ("rule: \"job.abortConfig.criteria.size() > 0\"", 5,
                             "abortConfig has no field criteria; did you mean criteriaList?"),
    "unknown-rollout-field": ("rule: \"rollout.nmae == 'x'\"", 5,
                              "rollout has no field nmae; did you mean name?"),
    "field-not-sent": ("rule: \"has(job.jobId)\"", 5, "a CreateJob request has no field jobId"),
    "unknown-function": ("rule: \"job.targets.all(t, t.lower() == t)\"", 5,
                         "unknown function lower"),
    "bad-level": ("level: fatal\n    rule: \"true\"", 5, "'fatal' is not allowed"),
    "unknown-key": ("rulee: \"true\"\n    rule: \"true\"", 5,
                    "unknown key rulee; did you mean rule?"),
    "missing-rule": ("match: \"true\"", 4, "missing required key rule"),
    "bad-exceptions": ("exceptions: never\n    rule: \"true\"", 5, "'never' is not allowed"),
    "duplicate-id": ("rule: \"true\"", 4, "policy id ok is also the id of policies[0]"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_policies_file__broken_policy__config_error_at_its_line(tmp_path: Path,
                                                              case: str) -> None:
    body, line, words = BROKEN[case]
    second_id = "ok" if case == "duplicate-id" else case
    text = ("policies:\n  - id: ok\n    rule: \"true\"\n"
            f"  - id: {second_id}\n    {body}\n")
    result = judged(tmp_path, {"_policies.yaml": text,
                               "fw.yaml": "targets: [thing/a]\ndocument: {op: x}\n"})
    assert not result.ok
    (problem,) = result.problems
    assert problem.file == "rollouts/_policies.yaml" and problem.line == line, str(problem)
    assert words in problem.message, str(problem)
    assert problem.code == "CONFIG_ERROR"
    assert failure_code(result.problems) == "CONFIG_ERROR"


def test_policies_file__broken__no_manifest_judged(tmp_path: Path) -> None:
    text = ("policies:\n  - id: strict\n    rule: \"false\"\n"
            "  - id: broken\n    rule: \"job.(\"\n")
    result = judged(tmp_path, {"_policies.yaml": text, "fw.yaml": JOB})
    assert [p.file for p in result.problems] == ["rollouts/_policies.yaml"], \
        lines(result.problems)


def test_policies_file__invalid_yaml__config_error(tmp_path: Path) -> None:
    result = judged(tmp_path, {"_policies.yaml": "policies:\n  - id: [\n", "fw.yaml": JOB})
    assert failure_code(result.problems) == "CONFIG_ERROR"
    assert all(p.file == "rollouts/_policies.yaml" for p in result.problems)


def test_policies_file__in_a_subfolder__refused(tmp_path: Path) -> None:
    result = judged(tmp_path, {"fw/_policies.yaml": "policies: []\n", "fw/a.yaml": JOB})
    (problem,) = result.problems
    assert "read only at the top of the rollouts folder" in problem.message


def test_policies_file__not_a_list__error(tmp_path: Path) -> None:
    result = judged(tmp_path, {"_policies.yaml": "policies: {id: x}\n", "fw.yaml": JOB})
    (problem,) = result.problems
    assert problem.line == 1 and problem.code == "CONFIG_ERROR"


def test_rule__gives_no_boolean__violation_says_so(tmp_path: Path) -> None:
    text = "policies:\n  - id: count\n    rule: \"size(job.targets)\"\n"
    result = judged(tmp_path, {"_policies.yaml": text, "fw.yaml": JOB})
    (problem,) = result.problems
    assert "not true or false" in problem.message and problem.is_error


def test_policies_file__empty_list__every_job_valid(tmp_path: Path) -> None:
    result = judged(tmp_path, {"_policies.yaml": "policies: []\n", "fw.yaml": JOB})
    assert result.ok and not result.problems
