"""Discovery of manifest files and the merge of _defaults.yaml down the tree."""

from __future__ import annotations

import json

from engine.loader.tree import deep_merge, load_tree
from engine.validate import validate_folder

from ..conftest import FIXTURES


def test_deep_merge__mappings_merge_lists_and_scalars_replace() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 1, "keep": True}
    over = {"a": {"y": [3], "z": 2}, "b": None}
    # a null drops what the base gave (tags: {team: null} drops the tag)
    assert deep_merge(base, over) == {"a": {"x": 1, "y": [3], "z": 2}, "keep": True}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 1, "keep": True}  # inputs untouched


def test_defaults__nearer_folder_and_job_win_and_null_drops_a_default() -> None:
    result = validate_folder(FIXTURES / "good" / "defaults-tree")
    jobs = {job.name: job for job in result.jobs}
    canary = jobs["canary"].manifest
    assert canary.timeoutConfig is not None
    assert canary.timeoutConfig.inProgressTimeoutInMinutes == 5  # the job's own key wins
    assert canary.abortConfig is None  # null in the job drops fw/_defaults.yaml's
    assert canary.targetSelection == "SNAPSHOT"  # from the top folder
    # documentFile from fw/_defaults.yaml is read relative to that file
    assert json.loads(jobs["canary"].document or "") == {"operation": "firmware-update",
                                                          "version": "1.0.0"}
    ops = jobs["ops"].manifest
    assert ops.abortConfig is None and ops.documentFile is None  # fw/ defaults stay in fw/
    assert ops.tags is not None and ops.tags[0].Key == "team"


def test_files__are_read_recursively_sorted_and_hidden_folders_skipped(write_tree) -> None:  # type: ignore[no-untyped-def]
    root = write_tree({
        "b.yaml": "targets: [thing/b]\ndocument: {}\n",
        "a/z.yml": "targets: [thing/z]\ndocument: {}\n",
        "a/c.yaml": "targets: [thing/c]\ndocument: {}\n",
        ".hidden/x.yaml": "not: [valid",
        "notes.txt": "ignored",
    })
    names = [job.path.stem for job in load_tree(root).jobs()]
    assert names == ["c", "z", "b"]


def test_several_documents_in_one_file__are_several_jobs(write_tree) -> None:  # type: ignore[no-untyped-def]
    root = write_tree({"pair.yaml": "name: one\ntargets: [thing/a]\ndocument: {}\n---\n"
                                    "name: two\ntargets: [thing/b]\ndocument: {}\n---\n"})
    result = validate_folder(root)
    assert [(j.name, j.line) for j in result.jobs] == [("one", 1), ("two", 5)]


def test_missing_folder__is_one_clear_problem(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = validate_folder(tmp_path / "nope")
    assert not result.ok
    assert "no such folder" in result.problems[0].message


def test_deep_merge__records_which_file_gave_each_path() -> None:
    origins: dict[str, str] = {}
    merged = deep_merge({}, {"tags": {"team": "fw"}, "abortConfig": {"criteriaList": [1]},
                             "document": {"a": 1}}, origins, "d.yaml")
    merged = deep_merge(merged, {"tags": {"fw": "2"}, "abortConfig": None,
                                 "document": {"a": None}}, origins)
    assert merged == {"tags": {"team": "fw", "fw": "2"}, "document": {"a": None}}
    assert origins == {"tags.team": "d.yaml"}
