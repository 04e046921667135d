"""A job document through the CLI: what ``validate`` refuses, and what ``plan`` would send
(numbers as written, nulls and emoji as they are)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from engine.validate import validate_folder

from .conftest import REPO, cli_env, make_repo
from .test_cli import rollouts


def _plan_documents(base: Path, files: dict[str, str]) -> dict[str, Any]:
    """``plan --sandbox -o json`` of a repository holding ``files``: each job's document."""
    make_repo(base, files)
    done = subprocess.run([sys.executable, "-m", "engine", "plan", "--sandbox", "-o", "json"],
                          cwd=base, env=cli_env(), capture_output=True, text=True, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    body = json.loads(done.stdout)
    assert body["success"], body
    assert not any("null value" in note for note in body["data"]["notes"]), body["data"]["notes"]
    return {c["name"]: c["request"].get("document") for c in body["data"]["changes"]}


def test_validate__duplicate_key_in_json_document__error_at_its_line(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {
        "inline.yaml": "targets: [thing/dev-1]\ndocument: '{\"op\": \"x\", \"op\": \"y\"}'\n",
        "file.yaml": "targets: [thing/dev-1]\ndescription: d\ndocumentFile: doc.json\n",
        "doc.json": '{"a": {"v": 1, "v": 2}}'})
    done = rollouts("validate", str(root))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert any("inline.yaml:2:11: document: duplicate key 'op'" in line for line in lines), lines
    assert any("file.yaml:3:15: documentFile: duplicate key 'v'" in line for line in lines), lines


def test_validate__lone_surrogate__clear_error_never_a_traceback(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {
        "json.yaml": "targets: [thing/dev-1]\ndocument: '{\"op\": \"\\ud800\"}'\n",
        "yaml.yaml": "targets: [thing/dev-1]\ndocument: {op: \"\\ud800\"}\n",
        "file.yaml": "targets: [thing/dev-1]\ndocumentFile: doc.json\n",
        "doc.json": '{"op": "\\udc00x"}'})
    done = rollouts("validate", str(root))
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    lines = done.stdout.splitlines()
    assert any("json.yaml:2:11: document: a lone UTF-16 surrogate (\\ud800)" in line
               for line in lines), lines
    assert any("file.yaml:2:15: documentFile: a lone UTF-16 surrogate (\\udc00)" in line
               for line in lines), lines
    assert any("yaml.yaml:2:" in line and "UTF-16 surrogate" in line for line in lines), lines


def test_plan__emoji_as_json_dump_writes_it_in_a_document_file__sent_as_emoji(
        tmp_path: Path) -> None:
    documents = _plan_documents(tmp_path, {
        "rocket.yaml": "targets: [thing/dev-1]\ndocumentFile: rocket.json\n",
        "rocket.json": json.dumps({"op": "launch \U0001F680"})})
    assert '\\ud83d\\ude80' in (tmp_path / "rollouts" / "rocket.json").read_text()
    assert documents["rocket"] == '{"op":"launch \U0001F680"}'


def test_plan__null_in_document__sent_as_is_without_a_warning(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {"ota.yaml": "targets: [thing/dev-1]\n"
                                            "document: {afr_ota: {streamname: null}}\n"})
    done = rollouts("validate", str(root), "-o", "json")
    assert json.loads(done.stdout)["data"]["warnings"] == []
    documents = _plan_documents(tmp_path, {})
    assert documents["ota"] == '{"afr_ota":{"streamname":null}}'


def test_plan__document_numbers__go_out_as_written(tmp_path: Path) -> None:
    documents = _plan_documents(tmp_path, {
        "text.yaml": "targets: [thing/dev-1]\n"
                     "document: '{\"a\": 1e2, \"b\": 0.1000000000000000055511151231257827, "
                     "\"c\": 5.0, \"d\": 2.5, \"e\": 7}'\n",
        "file.yaml": "targets: [thing/dev-1]\ndocumentFile: doc.json\n",
        "doc.json": '{"z": 1E-7, "a": [1.50, -0.0]}',
        "mapping.yaml": "targets: [thing/dev-1]\n"
                        "document: {a: 1e2, b: 0.1000000000000000055511151231257827,"
                        " c: 5.0, d: .5, e: 7}\n"})
    assert documents["text"] == ('{"a":1e2,"b":0.1000000000000000055511151231257827,'
                                 '"c":5.0,"d":2.5,"e":7}')
    assert documents["file"] == '{"a":[1.50,-0.0],"z":1E-7}'
    # YAML's .5 is no JSON number: it goes out as JSON writes the float.
    assert documents["mapping"] == ('{"a":1e2,"b":0.1000000000000000055511151231257827,'
                                    '"c":5.0,"d":0.5,"e":7}')


def _canonical_as_before(value: Any) -> str:
    """The canonical JSON before numbers were kept as written (floats through a double)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def test_canonical_document__repository_rollouts__unchanged_byte_for_byte() -> None:
    result = validate_folder(REPO / "rollouts")
    assert result.ok and len(result.jobs) >= 6
    compared = 0
    for job in result.jobs:
        if job.document is None:
            continue
        if "documentFile" in job.data:
            base = (REPO / job.source).parent
            value = json.loads((base / job.data["documentFile"]).read_text())
        else:
            value = json.loads(job.document)
        assert job.document == _canonical_as_before(value), job.name
        compared += 1
    assert compared >= 4
