"""The editor schemas (``rollouts schema --kind ...``), checked as an editor reads them.

Files are validated as written (each YAML document, before ``_defaults.yaml`` are merged),
with the ``jsonschema`` package whose ``pattern`` keyword is run by ``regress``, an
ECMA-262 engine, with the ``u`` flag that the YAML language server gives (so ``\\p{L}`` and
``\\p{C}`` mean what they mean in an editor, not what Python's ``re`` makes of them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import regress
import yaml
from click.testing import CliRunner

from engine.cli import main
from engine.loader.globs import compile_glob, excluded
from engine.loader.yamlfile import read
from engine.schema.editor import KINDS, described_share, editor_schema, iter_properties

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and regress.Regex(pattern, "u").find(
            instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


EditorValidator = jsonschema.validators.extend(
    jsonschema.Draft7Validator, {"pattern": _ecma_pattern})

# The metaschema's ``format: regex``, read as ECMA-262 too (jsonschema's own uses ``re``).
ECMA_FORMATS = jsonschema.FormatChecker(formats=())
ECMA_FORMATS.checks("regex", raises=regress.RegressError)(
    lambda text: not isinstance(text, str) or bool(regress.Regex(text, "u")))


def _validator(kind: str) -> Any:
    return EditorValidator(editor_schema(kind))


def kind_of(path: Path) -> str:
    if path.name in ("_config.yaml", "_config.yml"):
        return "config"
    if path.name in ("_defaults.yaml", "_defaults.yml"):
        return "defaults"
    if path.name in ("_policies.yaml", "_policies.yml"):
        return "policies"
    return "manifest"


def errors_of(path: Path) -> list[str]:
    """What an editor's schema check says of each YAML document of ``path``, as written."""
    documents, problems = read(path, str(path))
    assert not problems, problems
    validator = _validator(kind_of(path))
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
            for doc in documents for e in validator.iter_errors(doc.data)]


def _yaml_files(*folders: Path) -> list[Path]:
    """The YAML files of each rollouts folder, less those its _config.yaml excludes."""
    found = []
    for folder in folders:
        config = folder / "_config.yaml"
        globs = (yaml.safe_load(config.read_text()) or {}).get("exclude", []) \
            if config.exists() else []
        patterns = [compile_glob(g) for g in globs]
        found += [p for p in folder.rglob("*.y*ml")
                  if not excluded(p.relative_to(folder).as_posix(), patterns)]
    return sorted(found)


GOOD_FILES = _yaml_files(REPO / "rollouts", *sorted((FIXTURES / "good").iterdir()))

# Bad fixtures whose error a schema sees in the file alone: a type, an enum, a bound, a
# pattern, an unknown key. (The others break rules between fields or files, or the YAML.)
SCHEMA_VISIBLE = [
    "abort-bad-action", "abort-empty-criteria", "abort-threshold-over-100", "bad-target",
    "base-rate-zero", "config-bad-ledger", "config-unknown-key", "defaults-bad-value",
    "defaults-unknown-key", "defaults-with-name", "description-control-char",
    "description-number", "description-too-long", "duplicate-target", "empty-targets",
    "end-behavior-unknown", "expires-quoted-number", "huge-integer",
    "increment-factor-too-high", "jobid-bad-chars", "jobid-too-long", "maintenance-too-long",
    "maximum-per-minute-zero",
    "name-too-long", "package-version-not-arn", "parameter-key-bad",
    "presigned-expires-too-long", "presigned-role-too-short", "region-bad",
    "retry-rejected-not-retryable", "retry-too-many-criteria", "retry-too-many-retries",
    "schedule-bad-format", "tag-key-bad-chars", "tag-value-number", "tags-too-many",
    "target-not-iot-arn", "target-selection-lowercase", "template-arn-not-arn",
    "timeout-too-long", "timeout-yes-is-not-a-number", "timeout-zero", "too-many-targets",
    "top-level-list", "unknown-key-typo", "unknown-nested-key",
]


@pytest.mark.parametrize("kind", KINDS)
def test_schema__is_a_valid_draft07_schema_with_ecma_patterns(kind: str) -> None:
    schema = editor_schema(kind)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    # Every pattern compiles as ECMA-262 (an editor drops one that does not).
    jsonschema.Draft7Validator.check_schema(schema, format_checker=ECMA_FORMATS)
    assert "pattern" in json.dumps(schema)


@pytest.mark.parametrize("kind", KINDS)
def test_schema__every_property_has_a_description_and_its_key_as_title(kind: str) -> None:
    schema = editor_schema(kind)
    described, total = described_share(schema)
    assert total > 0 and described / total >= 0.95, (described, total)
    for path, prop in iter_properties(schema):
        words = prop.get("description", "")
        assert "<" not in words and "  " not in words, (path, words)  # no HTML left
        assert prop["title"] == path.rsplit(".", 1)[-1].removesuffix("[]"), path


@pytest.mark.parametrize("path", GOOD_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_good_files__as_written__are_valid(path: Path) -> None:
    assert errors_of(path) == []


def test_good_files__cover_every_kind_and_a_manifest_that_needs_its_defaults() -> None:
    kinds = {kind_of(p) for p in GOOD_FILES}
    assert kinds == set(KINDS)
    sensor = REPO / "rollouts" / "firmware" / "sensor-fw-1-9-2.yaml"
    assert sensor in GOOD_FILES
    (doc,), _ = read(sensor, str(sensor))
    # The rest of exponentialRate (required by the API) comes from _defaults.yaml.
    assert set(doc.data["jobExecutionsRolloutConfig"]["exponentialRate"]) == {
        "baseRatePerMinute"}


@pytest.mark.parametrize("name", SCHEMA_VISIBLE)
def test_bad_fixture__type_enum_or_bound_error__is_refused(name: str) -> None:
    files = _yaml_files(FIXTURES / "bad" / name)
    assert files
    assert any(errors_of(p) for p in files), name


@pytest.mark.parametrize(("kind", "data"), [
    ("manifest", {}),
    ("manifest", {"abortConfig": {}}),  # criteriaList may come from defaults
    ("manifest", {"jobExecutionsRolloutConfig": {"exponentialRate": {"incrementFactor": 2}}}),
    ("manifest", {"tags": {"team": None}}),  # drops a default's tag
    ("manifest", {"tags": {"équipe": "ota"}}),  # \p{L} as ECMA reads it
    ("manifest", {"description": None, "timeoutConfig": None}),
    # A rollout in waves drops the targets a defaults file gives: each wave names its own.
    ("manifest", {"targets": None, "waves": [{"name": "canary", "targets": ["thing/a"]}]}),
    ("defaults", {"targets": None, "abortConfig": {"criteriaList": None}}),
    ("config", {"exclude": ["firmware/documents/**"], "ledger": "file://ledger.json"}),
])
def test_as_written__keys_that_defaults_can_supply__may_be_missing_or_null(
        kind: str, data: dict[str, Any]) -> None:
    assert list(_validator(kind).iter_errors(data)) == []


@pytest.mark.parametrize(("kind", "data"), [
    # A list replaces the defaults' one whole: each entry must be complete.
    ("manifest", {"abortConfig": {"criteriaList": [{"failureType": "ALL"}]}}),
    ("manifest", {"tags": [{"Value": "x"}]}),
    ("manifest", {"schedulingConfig": {"maintenanceWindows": [{"durationInMinutes": 5}]}}),
    ("manifest", {"description": "tab\there"}),  # \p{C}
    ("defaults", {"name": "shared"}),
    ("defaults", {"jobId": "shared"}),
    ("config", {"exclude": "documents/**"}),
])
def test_as_written__what_no_other_file_can_mend__is_refused(
        kind: str, data: dict[str, Any]) -> None:
    assert list(_validator(kind).iter_errors(data))


@pytest.mark.parametrize("kind", KINDS)
def test_cli_schema__prints_the_kind_asked_for(kind: str) -> None:
    done = CliRunner().invoke(main, ["schema", "--kind", kind])
    assert done.exit_code == 0
    assert json.loads(done.output) == editor_schema(kind)


def test_cli_schema__manifest_by_default_and_policies_on_asking() -> None:
    runner = CliRunner()
    assert json.loads(runner.invoke(main, ["schema"]).output) == editor_schema("manifest")
    done = runner.invoke(main, ["schema", "--kind", "policies"])
    assert done.exit_code == 0
    assert set(json.loads(done.output)["properties"]["policies"]["items"]["properties"]) == {
        "id", "description", "level", "match", "rule", "message", "exceptions"}
