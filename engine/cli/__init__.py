"""The ``rollouts`` command: parse options, call one engine function, render, exit.

Exit codes: 0 success (valid; no changes; applied); 1 error, invalid manifests, conflict,
stale plan or a failed action; 2 (``plan --detailed-exitcode``) changes to make.

Each command lives in a module of its own that registers on ``main`` when imported.
"""

from engine.cli import basic, imports, init, runs, sandbox, status
from engine.cli.common import main

__all__ = ["basic", "imports", "init", "main", "runs", "sandbox", "status"]
