"""What a user does after ``rollouts init``, and the text and JSON ``init`` prints.

The next steps are the OIDC set-up in the order it works: try the sandbox, the OIDC
provider, the ledger bucket (named in the policies before the roles take them), the two
roles, the repository variables, the environment, then a first pull request. Each step is
a title and the commands to run, with the paths and names of this scaffold filled in.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from engine.scaffold import ENVIRONMENT, Scaffold

SYMBOLS = {"written": "+", "overwritten": "~", "appended": "~", "kept": "=", "unchanged": "="}


@dataclass(frozen=True)
class Step:
    title: str
    commands: tuple[str, ...] = ()


def next_steps(done: Scaffold) -> list[Step]:
    q = shlex.quote
    folder = q(done.folder)
    policy = {role: q(done.path("iam", f"rollouts-{role}-policy.json"))
              for role in ("plan", "apply")}
    trust = {role: q(done.path("iam", f"rollouts-{role}-trust.json"))
             for role in ("plan", "apply")}
    repo = done.github or "OWNER/REPO"
    roles = tuple(command for role in ("plan", "apply") for command in (
        f"aws iam create-role --role-name rollouts-{role} "
        f"--assume-role-policy-document file://{trust[role]}",
        f"aws iam put-role-policy --role-name rollouts-{role} --policy-name "
        f"rollouts-{role} --policy-document file://{policy[role]}"))
    steps = [
        Step("Try it with no AWS account (a simulated AWS IoT in .rollouts-sandbox/):",
             (f"rollouts validate {folder}", f"rollouts plan {folder} --sandbox")),
        Step("Once per AWS account, let GitHub's OIDC provider sign in (skip it if IAM "
             "lists token.actions.githubusercontent.com already):",
             ("aws iam create-open-id-connect-provider --url "
              "https://token.actions.githubusercontent.com --client-id-list sts.amazonaws.com",)),
        Step("Create the ledger's bucket (versioning on), write its name in place of "
             f"REPLACE-WITH-LEDGER-BUCKET in {policy['plan']}, {policy['apply']} and "
             f"{done.folder}/_config.yaml, and remove the `#` before `ledger:` there:",
             ("aws s3api create-bucket --bucket BUCKET"
              # us-east-1 refuses a LocationConstraint naming itself
              + ("" if done.region == "us-east-1" else
                 f" --create-bucket-configuration LocationConstraint={done.region}"),
              "aws s3api put-bucket-versioning --bucket BUCKET "
              "--versioning-configuration Status=Enabled")),
        Step("Write your account id in place of ACCOUNT_ID in the two trust policies"
             + ("" if done.github else ", and your repository in place of OWNER/REPO")
             + f" (the plan role trusts pull requests of {repo}, the apply role only jobs "
             f"of its environment {ENVIRONMENT}), then create the two roles:", roles),
        Step("Set the repository's variables (Settings > Secrets and variables > Actions > "
             "Variables; no secrets are needed), with the GitHub CLI:",
             ("gh variable set ROLLOUTS_PLAN_ROLE_ARN --body "
              "arn:aws:iam::ACCOUNT_ID:role/rollouts-plan",
              "gh variable set ROLLOUTS_APPLY_ROLE_ARN --body "
              "arn:aws:iam::ACCOUNT_ID:role/rollouts-apply",
              f"gh variable set AWS_REGION --body {done.region}")),
        Step(f"Create the GitHub environment {ENVIRONMENT} (Settings > Environments), with "
             f"a deployment-branch rule for {done.branch} only (required reviewers would "
             "hold every 15-minute gates run)."),
        Step("Commit, push a branch and open a pull request that touches "
             f"{done.folder}/: the plan is posted as a comment; merging it into "
             f"{done.branch} applies it.",
             ("git add -A && git commit -m 'Rollouts managed by iot-rollouts'",)),
        Step("Optional: check the manifests on every commit with pre-commit, in "
             ".pre-commit-config.yaml:",
             ("repos:",
              f"  - repo: https://github.com/{done.pinned.split('@')[0]}",
              f"    rev: v{done.version}",
              "    hooks: [{id: rollouts-validate"
              + ("" if done.folder == "rollouts"
                 else f", args: [{done.folder}], files: ^{done.folder}/") + "}]")),
    ]
    if not done.in_git:
        steps.insert(0, Step("Make the folder a git repository:", ("git init",)))
    return steps


def data(done: Scaffold) -> dict[str, Any]:
    """The ``data`` of ``init --output json``."""
    return {
        "root": str(done.root), "folder": done.folder, "project": done.project,
        "region": done.region, "branch": done.branch, "version": done.version,
        "workflowsCall": done.pinned, "github": done.github, "inGit": done.in_git,
        "files": [{"path": f.path, "kind": f.kind, "outcome": f.outcome}
                  for f in done.files],
        "notes": list(done.notes),
        "nextSteps": [{"title": s.title, "commands": list(s.commands)}
                      for s in next_steps(done)],
    }


def text(done: Scaffold) -> str:
    lines = [f"Initialized {done.root}: project {done.project}, region {done.region}; "
             f"the workflows call {done.pinned}"]
    for placed in done.files:
        why = ("" if placed.outcome != "kept" else
               "  (exists: kept, --force or not: it names the project)"
               if placed.kind == "config" else "  (exists: kept; --force overwrites it)")
        lines.append(f"  {SYMBOLS[placed.outcome]} {placed.path}{why}")
    lines += [f"note: {note}" for note in done.notes]
    lines.append("Next steps:")
    for n, step in enumerate(next_steps(done), 1):
        lines.append(f"{n}. {step.title}")
        lines += [f"     {command}" for command in step.commands]
    return "\n".join(lines)
