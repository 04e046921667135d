"""An apply interrupted (Ctrl-C in a terminal; a CI runner's cancel) keeps the output
contract: one failure envelope on stdout with -o json, one line in text, exit 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import cli_env, make_repo

# The CLI, with the apply interrupted as Ctrl-C would interrupt it (KeyboardInterrupt in
# the main thread while the changes are being made).
INTERRUPTED = """
import sys
import engine.workflow as workflow
def interrupted(run):
    raise KeyboardInterrupt
workflow.apply_run = interrupted
from engine.cli import main
sys.argv = ["rollouts", *sys.argv[1:]]
main()
"""


def _apply(tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    make_repo(tmp_path, {"fw.yaml": "targets: [thing/dev-1]\ndocument: {op: x}\n"})
    return subprocess.run([sys.executable, "-c", INTERRUPTED, "apply", "--auto-approve",
                           "--sandbox", *options], cwd=tmp_path, env=cli_env(),
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, check=False)


def test_apply_json__interrupted__stdout_is_one_failure_envelope(tmp_path: Path) -> None:
    """With -o json, an interrupted apply prints exactly one JSON document: success false,
    APPLY_FAILED, and a message saying changes may have been made and to run it again."""
    done = _apply(tmp_path, "--output", "json")
    assert done.returncode == 1, done
    body = json.loads(done.stdout)
    assert body["success"] is False, body
    assert body["error"]["code"] == "APPLY_FAILED", body
    assert "run apply again to finish" in body["error"]["message"], body


def test_apply_text__interrupted__one_line_says_run_again(tmp_path: Path) -> None:
    """In text, an interrupted apply says on stderr, in one line, that it was interrupted
    and to run apply again; no traceback."""
    done = _apply(tmp_path)
    assert done.returncode == 1, done
    assert "interrupted" in done.stderr and "run apply again" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
