"""Guardrails: the team's rules in ``rollouts/_policies.yaml``, in CEL (DESIGN.md section 9).

``book_for`` reads and compiles the policies once per run (``model``, ``expressions``);
``PolicyBook.judge`` runs them on each valid job as validation finds it (``judge``), so
``validate``, ``plan`` and ``apply`` judge alike and the validation cache keeps the verdicts
(its key holds every settings file, ``_policies.yaml`` included).
"""

from __future__ import annotations

from engine.errors import Problem
from engine.loader.tree import Tree, folder_project
from engine.policies.engines import cel_engine
from engine.policies.judge import PLACEHOLDER_ACCOUNT, VIOLATION, PolicyBook, Waiver, in_use
from engine.policies.model import PoliciesFile, Policy, load_policies
from engine.schema.models import Config

__all__ = ["PLACEHOLDER_ACCOUNT", "VIOLATION", "PoliciesFile", "Policy", "PolicyBook",
           "Waiver", "book_for", "in_use"]


def book_for(tree: Tree, config: Config | None, problems: list[Problem]) -> PolicyBook | None:
    """The folder's policies (none without a ``_policies.yaml``), or None where they cannot
    be used (the reasons are then in ``problems``, at their lines of ``_policies.yaml``)."""
    config_project = config.project if config is not None and config.project else None
    project = config_project or folder_project(tree.repo_root)
    region = config.region if config is not None else None
    if tree.policies is None:  # no rules; an exception a manifest claims is still checked
        return PolicyBook((), project, region)
    try:
        cel_engine()
    except ImportError:  # installed without its dependencies: never skipped in silence
        line, column = tree.policies.position(())
        problems.append(Problem(tree.policies.file, line, column, "",
                                "no CEL engine is installed to check the policies: "
                                "reinstall iot-rollouts (pip install iot-rollouts)",
                                code="CONFIG_ERROR"))
        return None
    policies = load_policies(tree.policies, problems)
    if policies is None:
        return None
    return PolicyBook.of(tuple(policies), project, region)
