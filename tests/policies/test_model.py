"""``_policies.yaml`` that cannot be used: a CONFIG_ERROR at its own line, found before any
manifest is judged."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import failure_code

from .helpers import JOB, judged, lines, policies_yaml

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


@pytest.mark.parametrize("pattern", ["[", "(a", "a{2,1}"])
def test_matches__pattern_the_engine_refuses__config_error_at_the_policy(
        tmp_path: Path, pattern: str) -> None:
    # A typo of the policy's author is the policy's error, not every job's violation.
    result = judged(tmp_path, {
        "_policies.yaml": policies_yaml(
            {"id": "re", "rule": f"job.description.matches('{pattern}')"}),
        "fw.yaml": "targets: [thing/a]\ndocument: {op: x}\ndescription: d\n"})
    assert {p.code for p in result.problems} == {"CONFIG_ERROR"}, lines(result.problems)
    assert [p.split(": ", 1)[0] for p in lines(result.problems)] == \
        ["rollouts/_policies.yaml:3:11"], lines(result.problems)
    assert "pattern" in lines(result.problems)[0]


def test_matches__valid_pattern__judged(tmp_path: Path) -> None:
    result = judged(tmp_path, {
        "_policies.yaml": policies_yaml(
            {"id": "re", "rule": "job.description.matches('^d[0-9]?$')"}),
        "fw.yaml": "targets: [thing/a]\ndocument: {op: x}\ndescription: d\n"})
    assert result.ok and not result.problems, lines(result.problems)


@pytest.mark.parametrize("reason", ['""', '"   "', '"\\t\\n"'])
def test_exception__blank_reason__refused(tmp_path: Path, reason: str) -> None:
    result = judged(tmp_path, {
        "_policies.yaml": policies_yaml({"id": "a", "rule": "has(job.abortConfig)"}),
        "fw.yaml": ("targets: [thing/a]\ndocument: {op: x}\n"
                    f"policyExceptions: {{a: {reason}}}\n")})
    assert not result.ok
    assert any("policyExceptions.a" in p for p in lines(result.problems)), lines(result.problems)


def test_policies_file__policies_key_empty__says_so_plainly(tmp_path: Path) -> None:
    result = judged(tmp_path, {"_policies.yaml": "policies:\n", "fw.yaml": JOB})
    assert lines(result.problems) == [
        "rollouts/_policies.yaml:1:10: policies: empty: give a list of policies, or delete "
        "the file"], lines(result.problems)


def test_exception__null_reason__says_it_is_empty(tmp_path: Path) -> None:
    result = judged(tmp_path, {
        "_policies.yaml": policies_yaml({"id": "a", "rule": "has(job.abortConfig)"}),
        "fw.yaml": "targets: [thing/a]\ndocument: {op: x}\npolicyExceptions: {a: null}\n"})
    assert any("policyExceptions.a: empty: give text" in p and "None" not in p
               for p in lines(result.problems)), lines(result.problems)


def test_exception__inside_a_wave__says_it_belongs_to_the_rollout(tmp_path: Path) -> None:
    result = judged(tmp_path, {
        "_policies.yaml": policies_yaml({"id": "a", "rule": "has(job.abortConfig)"}),
        "fw.yaml": "targets: [thing/a]\ndocument: {op: x}\nwaves:\n  - name: w1\n"
                   "    targets: [thing/a]\n    policyExceptions: {a: r}\n"})
    assert any("waves[0].policyExceptions: policyExceptions belongs to the whole rollout"
               in p for p in lines(result.problems)), lines(result.problems)
