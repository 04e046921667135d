"""Review (lifecycle): an apply interrupted (Ctrl-C in a terminal; a CI runner's cancel)
keeps the JSON contract: stdout is exactly one JSON document whatever happens."""

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


def test_apply_json__interrupted__stdout_is_one_failure_envelope(tmp_path: Path) -> None:
    """Seen by hand: 80 manifests, `rollouts apply --auto-approve --sandbox -o json`,
    SIGINT during the creates: stdout is empty, stderr "Aborted.", exit 1 — and the
    worker threads went on to create all 80 jobs (the next plan shows 80 unchanged), so
    "Aborted" is not even what happened. The envelope (success false, a code, what was
    done) must still be the one document on stdout."""
    make_repo(tmp_path, {"fw.yaml": "targets: [thing/dev-1]\ndocument: {op: x}\n"})
    done = subprocess.run([sys.executable, "-c", INTERRUPTED, "apply", "--auto-approve",
                           "--sandbox", "--output", "json"], cwd=tmp_path, env=cli_env(),
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 1, done
    body = json.loads(done.stdout)  # fails: stdout is empty
    assert body["success"] is False, body
