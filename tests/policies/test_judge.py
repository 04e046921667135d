"""Policies judged on jobs: every operator family the README documents, what ``job`` and
``rollout`` hold (targets, document, tags, waves), levels, exceptions and where a violation
is shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import Severity
from engine.policies import in_use
from engine.resolve import create_job_request

from .helpers import JOB, ids_broken, judged, lines, policies_yaml, rust_only

# Each family of operators (README "Policies"), each expression true of JOB.
TRUE_OF_JOB = {
    "has": "has(job.abortConfig) && !has(job.schedulingConfig) && has(job.document.reboot)",
    "exists": "job.targets.exists(t, t.contains(':thinggroup/prod-'))",
    "all": "job.targets.all(t, t.startsWith('arn:aws:iot:eu-west-1:000000000000:'))",
    "exists_one": "job.targets.exists_one(t, t.endsWith('/lab-1'))",
    "map": "job.document.steps.map(s, s.size) == [3, 5]",
    "filter": "size(job.targets.filter(t, t.contains(':thing/'))) == 1",
    "size": "size(job.targets) == 2 && job.document.operation.size() == 15",
    "in": "'team' in job.tags && job.tags.env in ['prod', 'staging'] && 'env' in job.tags",
    "strings": "job.document.version.matches('^2[.][0-9]+[.][0-9]+$') "
               "&& job.document.operation.startsWith('firmware') "
               "&& job.document.operation.endsWith('-update') "
               "&& job.document.operation.contains('ware-up')",
    "arithmetic": "job.jobExecutionsRolloutConfig.maximumPerMinute * 60 / 2 == 3000 "
                  "&& job.jobExecutionsRolloutConfig.maximumPerMinute % 7 == 2 "
                  "&& job.document.steps[1].size - 1 == 4",
    "ternary": "(size(rollout.waves) >= 2 ? 'waved' : 'flat') == 'flat'",
    "logic": "(!(job.targetSelection == 'CONTINUOUS') || false) "
             "&& (job.document.missing == 1 || true)",  # an error absorbed by ||
    "conversions": "int('12') + 1 == 13 && string(5) == '5' && double(1) / 2.0 == 0.5",
    "rollout": "rollout.name == 'fw' && rollout.project == 'guard' "
               "&& rollout.region == 'eu-west-1' && rollout.account == null "
               "&& rollout.source == 'rollouts/fw.yaml' && rollout.waves == []",
    "defaults-written-out": "job.targetSelection == 'SNAPSHOT'",
}


def test_operators__each_family_true_of_the_job__no_violation(tmp_path: Path) -> None:
    policies = [{"id": name, "rule": rule} for name, rule in TRUE_OF_JOB.items()]
    result = judged(tmp_path, {"_policies.yaml": policies_yaml(*policies), "fw.yaml": JOB})
    assert result.ok and not result.problems, lines(result.problems)


def test_operators__each_family_negated__every_policy_violated(tmp_path: Path) -> None:
    policies = [{"id": name, "rule": f"!({rule})"} for name, rule in TRUE_OF_JOB.items()]
    result = judged(tmp_path, {"_policies.yaml": policies_yaml(*policies), "fw.yaml": JOB})
    assert ids_broken(result) == set(TRUE_OF_JOB), lines(result.problems)
    assert all(p.code == "POLICY_VIOLATION" for p in result.problems)


@rust_only
def test_operators__whole_and_decimal_numbers__compare(tmp_path: Path) -> None:
    rules = ["job.abortConfig.criteriaList.exists(c, c.thresholdPercentage <= 10.0)",
             "job.jobExecutionsRolloutConfig.maximumPerMinute < 100.5", "3.0 == 3",
             "!(job.jobExecutionsRolloutConfig.maximumPerMinute > 100.5)"]
    policies = [{"id": f"n{i}", "rule": rule} for i, rule in enumerate(rules)]
    result = judged(tmp_path, {"_policies.yaml": policies_yaml(*policies), "fw.yaml": JOB})
    assert result.ok and not result.problems, lines(result.problems)


def test_match__false__rule_not_judged(tmp_path: Path) -> None:
    policy = {"id": "prod-waved", "match": "job.targets.exists(t, t.contains('/staging-'))",
              "rule": "size(rollout.waves) >= 2"}
    result = judged(tmp_path, {"_policies.yaml": policies_yaml(policy), "fw.yaml": JOB})
    assert result.ok and not result.problems


def test_match_and_rule__over_targets__violation_at_the_targets_line(tmp_path: Path) -> None:
    policy = {"id": "prod-waved", "match": "job.targets.exists(t, t.contains(':thinggroup/prod-'))",
              "rule": "job.targets.all(t, !t.contains(':thing/'))",
              "message": "production rollouts target groups only"}
    result = judged(tmp_path, {"_policies.yaml": policies_yaml(policy), "fw.yaml": JOB})
    assert not result.ok
    (problem,) = result.problems
    assert (problem.file, problem.line, problem.path) == ("rollouts/fw.yaml", 1, "targets")
    assert "policy prod-waved: production rollouts target groups only" in problem.message
    assert "policyExceptions: {prod-waved: REASON}" in problem.message


def test_rule__document_field__violation_at_that_field(tmp_path: Path) -> None:
    policy = {"id": "no-reboot", "rule": "!has(job.document.reboot) || !job.document.reboot"}
    result = judged(tmp_path, {"_policies.yaml": policies_yaml(policy), "fw.yaml": JOB})
    (problem,) = result.problems
    assert (problem.line, problem.path) == (5, "document.reboot"), str(problem)


def test_rule__document_from_a_file__parsed(tmp_path: Path) -> None:
    policy = {"id": "versioned", "rule": "job.document.version == '1.9.2'"}
    result = judged(tmp_path, {
        "_policies.yaml": policies_yaml(policy),
        "doc.json": '{"operation": "x", "version": "1.9.2"}',
        "fw.yaml": "targets: [thing/a]\ndocumentFile: doc.json\n"})
    assert result.ok and not result.problems, lines(result.problems)


def test_rule__tags_in_the_api_list_form__read_as_a_map(tmp_path: Path) -> None:
    policy = {"id": "team-tag", "rule": "job.tags.team == 'ops'"}
    result = judged(tmp_path, {
        "_policies.yaml": policies_yaml(policy),
        "a.yaml": "targets: [thing/a]\ndocument: {op: x}\ntags:\n  - {Key: team, Value: ops}\n",
        "b.yaml": "targets: [thing/b]\ndocument: {op: x}\ntags: {team: web}\n"})
    assert [p.file for p in result.problems] == ["rollouts/b.yaml"]


def test_rule__field_from_defaults__violation_in_the_defaults_file(tmp_path: Path) -> None:
    policy = {"id": "slow", "rule": "job.jobExecutionsRolloutConfig.maximumPerMinute <= 50"}
    result = judged(tmp_path, {
        "_policies.yaml": policies_yaml(policy),
        "fw/_defaults.yaml": "document: {op: x}\njobExecutionsRolloutConfig:\n"
                             "  maximumPerMinute: 100\n",
        "fw/a.yaml": "targets: [thing/a]\n"})
    (problem,) = result.problems
    assert (problem.file, problem.line) == ("rollouts/fw/_defaults.yaml", 3), str(problem)


def test_rule__absent_field_unguarded__violation_says_to_guard_it(tmp_path: Path) -> None:
    policy = {"id": "short", "rule": "job.timeoutConfig.inProgressTimeoutInMinutes <= 60"}
    result = judged(tmp_path, {"_policies.yaml": policies_yaml(policy),
                               "fw.yaml": "targets: [thing/a]\ndocument: {op: x}\n"})
    (problem,) = result.problems
    assert problem.line == 1 and "guard optional fields with has()" in problem.message


def test_waves__each_wave_judged_with_its_own_targets_and_rollout_waves(
        tmp_path: Path) -> None:
    policies = [{"id": "waved", "match": "job.targets.exists(t, t.contains('/prod-'))",
                 "rule": "size(rollout.waves) >= 2 && rollout.waves[0].name == 'canary'"},
                {"id": "canary-small", "match": "job.targets.exists(t, t.contains('canary'))",
                 "rule": "job.jobExecutionsRolloutConfig.maximumPerMinute <= 10"}]
    waved = ("document: {op: x}\njobExecutionsRolloutConfig: {maximumPerMinute: 50}\n"
             "waves:\n  - name: canary\n    targets: [thinggroup/canary]\n"
             "  - name: all\n    targets: [thinggroup/prod-all]\n")
    flat = "targets: [thinggroup/prod-eu]\ndocument: {op: x}\n"
    result = judged(tmp_path, {"_policies.yaml": policies_yaml(*policies),
                               "w.yaml": waved, "flat.yaml": flat})
    by_file = {p.file: p.message for p in result.problems}
    assert set(by_file) == {"rollouts/w.yaml", "rollouts/flat.yaml"}, lines(result.problems)
    assert by_file["rollouts/w.yaml"].startswith("wave canary: policy canary-small")
    (in_waves,) = [p for p in result.problems if p.file == "rollouts/w.yaml"]
    assert in_waves.line == 2  # the rollout's rate, which the canary wave takes
    assert by_file["rollouts/flat.yaml"].startswith("policy waved")


def test_waves__field_a_wave_sets__violation_at_the_wave(tmp_path: Path) -> None:
    policy = {"id": "small-waves", "rule": "size(job.targets) <= 1"}
    waved = ("document: {op: x}\nwaves:\n  - name: canary\n    targets: [thing/a]\n"
             "  - name: all\n    targets: [thing/b, thing/c]\n")
    result = judged(tmp_path, {"_policies.yaml": policies_yaml(policy), "w.yaml": waved})
    (problem,) = result.problems
    assert (problem.line, problem.path) == (6, "waves[1].targets"), str(problem)
    assert problem.message.startswith("wave all: policy small-waves")


def test_level__warning__reported_and_valid(tmp_path: Path) -> None:
    policy = {"id": "lab", "level": "warning", "rule": "!job.targets.exists(t, t.contains('lab'))"}
    result = judged(tmp_path, {"_policies.yaml": policies_yaml(policy), "fw.yaml": JOB})
    assert result.ok
    (problem,) = result.problems
    assert problem.severity is Severity.WARNING and problem.code == "POLICY_VIOLATION"


def test_exception__allowed__no_problem_and_listed(tmp_path: Path) -> None:
    policy = {"id": "no-lab", "rule": "!job.targets.exists(t, t.contains('lab'))"}
    result = judged(tmp_path, {"_policies.yaml": policies_yaml(policy),
                               "fw.yaml": JOB + "policyExceptions: {no-lab: \"lab kit, #12\"}\n"})
    assert result.ok and not result.problems, lines(result.problems)
    (waiver,) = in_use(result.jobs)
    assert (waiver.name, waiver.policy, waiver.reason) == ("fw", "no-lab", "lab kit, #12")


def test_exception__forbidden__error_at_the_exception(tmp_path: Path) -> None:
    policy = {"id": "no-lab", "rule": "!job.targets.exists(t, t.contains('lab'))",
              "exceptions": "forbidden"}
    result = judged(tmp_path, {"_policies.yaml": policies_yaml(policy),
                               "fw.yaml": JOB + "policyExceptions: {no-lab: please}\n"})
    (problem,) = result.problems
    assert problem.is_error and problem.code == "POLICY_VIOLATION"
    assert (problem.line, problem.path) == (13, "policyExceptions.no-lab")
    assert "allows no exception" in problem.message
    assert not in_use(result.jobs)


def test_exception__forbidden_and_kept__error_all_the_same(tmp_path: Path) -> None:
    policy = {"id": "abort", "rule": "has(job.abortConfig)", "exceptions": "forbidden"}
    result = judged(tmp_path, {"_policies.yaml": policies_yaml(policy),
                               "fw.yaml": JOB + "policyExceptions: {abort: just in case}\n"})
    (problem,) = result.problems
    assert problem.is_error and problem.line == 13
    assert "policy abort allows no exception" in problem.message


def test_exception__not_needed__warning(tmp_path: Path) -> None:
    policy = {"id": "abort", "rule": "has(job.abortConfig)"}
    result = judged(tmp_path, {"_policies.yaml": policies_yaml(policy),
                               "fw.yaml": JOB + "policyExceptions: {abort: not needed}\n"})
    assert result.ok
    (problem,) = result.problems
    assert problem.severity is Severity.WARNING and "is not needed" in problem.message
    assert not in_use(result.jobs)


def test_exception__unknown_policy__error(tmp_path: Path) -> None:
    policy = {"id": "abort", "rule": "has(job.abortConfig)"}
    result = judged(tmp_path, {"_policies.yaml": policies_yaml(policy),
                               "fw.yaml": JOB + "policyExceptions: {abortt: typo}\n"})
    (problem,) = result.problems
    assert problem.is_error and "no policy abortt" in problem.message
    assert problem.line == 13


def test_exception__no_policies_file__error(tmp_path: Path) -> None:
    result = judged(tmp_path, {"fw.yaml": JOB + "policyExceptions: {abort: why}\n"})
    (problem,) = result.problems
    assert problem.is_error and "there is no _policies.yaml" in problem.message


def test_exception__not_sent_and_no_part_of_the_spec(tmp_path: Path) -> None:
    from engine.desired import NoHashes, desire

    policy = {"id": "no-lab", "rule": "!job.targets.exists(t, t.contains('lab'))"}
    plain = judged(tmp_path / "a", {"_policies.yaml": policies_yaml(policy),
                                    "fw.yaml": JOB.replace("thing/lab-1", "thing/x")})
    waived = judged(tmp_path / "b", {"_policies.yaml": policies_yaml(policy),
                                     "fw.yaml": JOB.replace("thing/lab-1", "thing/x")
                                     + "policyExceptions: {no-lab: why}\n"})
    (job_a,), (job_b,) = plain.jobs, waived.jobs
    assert "policyExceptions" not in create_job_request(job_b, account="1", region="r")
    hashes = [desire(j, project="p", account="123456789012", region="eu-west-1", commit=None,
                     hashes=NoHashes()) for j in (job_a, job_b)]
    assert hashes[0].spec_hash == hashes[1].spec_hash
    assert hashes[0].create_request("x") == hashes[1].create_request("x")


def test_subfolder__judged_by_the_top_policies(tmp_path: Path) -> None:
    from engine.validate import validate_folder

    policy = {"id": "abort", "rule": "has(job.abortConfig)"}
    judged(tmp_path, {"_policies.yaml": policies_yaml(policy),
                      "fw/a.yaml": "targets: [thing/a]\ndocument: {op: x}\n"})
    result = validate_folder(tmp_path / "rollouts" / "fw")
    assert ids_broken(result) == {"abort"}


@pytest.mark.parametrize("use_cache", [True])
def test_cache__policies_edited__verdicts_follow(tmp_path: Path, use_cache: bool) -> None:
    from engine.validate import validate_folder

    root = tmp_path / "rollouts"
    lenient = policies_yaml({"id": "abort", "rule": "true"})
    strict = policies_yaml({"id": "abort", "rule": "has(job.timeoutConfig)"})
    judged(tmp_path, {"_policies.yaml": lenient, "fw.yaml": JOB})
    for text, broken in ((lenient, set()), (strict, {"abort"}), (lenient, set())):
        (root / "_policies.yaml").write_text(text)
        first = validate_folder(root, use_cache=use_cache)
        first.save_cache()
        again = validate_folder(root, use_cache=use_cache)  # from the cache
        assert ids_broken(first) == ids_broken(again) == broken


def test_reads__paths_the_policies_read__only_those_converted() -> None:
    from engine.policies.expressions import shape
    from engine.policies.judge import _pruned, _reads

    reads = _reads([shape("has(job.abortConfig) && job.abortConfig.criteriaList.exists("
                          "c, c.thresholdPercentage <= 10)"),
                    shape("job.document.version.startsWith('2.') && size(rollout.waves) < 3")])
    request = {"abortConfig": {"criteriaList": [{"thresholdPercentage": 5, "action": "X"}],
                               "other": 1},
               "document": {"version": "2.0", "url": "u"}, "targets": ["t"]}
    rollout = {"name": "n", "waves": [{"name": "w"}]}
    assert _pruned({"job": request, "rollout": rollout}, reads) == {
        "job": {"abortConfig": request["abortConfig"], "document": {"version": "2.0"}},
        "rollout": {"waves": [{"name": "w"}]}}


def test_reads__job_read_whole__nothing_left_out() -> None:
    from engine.policies.expressions import shape
    from engine.policies.judge import _pruned, _reads

    reads = _reads([shape("size(job) > 1"), shape("rollout.name != ''")])
    request = {"document": {"version": "2.0"}, "targets": ["t"]}
    assert _pruned({"job": request, "rollout": {"name": "n", "project": "p"}}, reads) == {
        "job": request, "rollout": {"name": "n"}}


def test_match__shared_by_two_policies__each_rule_judged(tmp_path: Path) -> None:
    match = "job.targetSelection == 'SNAPSHOT'"
    found = judged(tmp_path, {"_policies.yaml": policies_yaml(
        {"id": "one", "match": match, "rule": "size(job.targets) > 5"},
        {"id": "two", "match": match, "rule": "size(job.targets) > 0"},
        {"id": "three", "match": match, "rule": "has(job.timeoutConfig)"}),
        "fw.yaml": JOB})
    assert sorted(p.message.split(":")[0] for p in found.problems) == [
        "policy one", "policy three"]


def test_rule__document_from_a_file__violation_at_the_document_file_line(
        tmp_path: Path) -> None:
    result = judged(tmp_path, {
        "_policies.yaml": policies_yaml({"id": "op", "rule": "job.document.op == 'y'"}),
        "doc.json": '{"op": "x"}',
        "fw.yaml": "description: d\ntargets: [thing/a]\ndocumentFile: doc.json\n"})
    assert [p.split(": policy", 1)[0] for p in lines(result.problems)] == \
        ["rollouts/fw.yaml:3:1: documentFile"], lines(result.problems)
