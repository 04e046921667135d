"""``python -m engine`` is the ``rollouts`` command."""

from engine.cli import main

main()
