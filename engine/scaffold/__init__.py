"""``rollouts init``: what a repository needs to run its rollouts from git.

``init_repository`` writes into a repository (a folder inside a git work tree, or any
folder: it says when there is no git around it) the rollouts folder's ``_config.yaml``, a
first manifest that validates, the three workflows that call this project's reusable
workflows pinned to the installed version, and the IAM policies of the two roles. It never
replaces a file that exists unless asked (``force``): a file it keeps is reported, not an
error. The files are templates shipped as package data (``templates/``); the IAM
policies there are copies of the repository's ``iam/`` (a test keeps them equal).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from engine import __version__
from engine.errors import ConfigError
from engine.loader.tree import CONFIG_NAMES
from engine.loader.yamlfile import read
from engine.schema.constraints import PROJECT_PATTERN, REGION_PATTERN

# Where this project lives on GitHub: the workflows `init` writes call its reusable
# workflows there (`REPOSITORY/.github/workflows/reusable-plan.yml@vVERSION`). The one
# place it is written in the code; pyproject.toml's [project.urls] says the same (tested).
REPOSITORY = "iot-rollouts/iot-rollouts"
DEFAULT_REGION = "us-east-1"
# Where the region comes from without --region, as for the AWS CLI.
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
# The GitHub environment whose jobs the apply role trusts (the workflows name it).
ENVIRONMENT = "rollouts"
IGNORED = ".rollouts-sandbox/"

Outcome = Literal["written", "overwritten", "kept", "appended", "unchanged"]
Kind = Literal["config", "example", "workflow", "iam"]


@dataclass(frozen=True)
class Placed:
    """One file of the scaffold: where it goes (relative to the repository) and what
    ``init`` did with it."""

    path: str
    kind: Kind
    outcome: Outcome


@dataclass(frozen=True)
class Scaffold:
    """What ``init`` did, and what the user does next."""

    root: Path  # the repository: where .github/ goes
    folder: str  # the rollouts folder, relative to ``root``, POSIX style
    project: str
    region: str
    branch: str
    version: str
    github: str | None  # OWNER/REPO of the `origin` remote, where it is on GitHub
    in_git: bool
    files: tuple[Placed, ...]
    notes: tuple[str, ...]

    @property
    def pinned(self) -> str:
        return f"{REPOSITORY}@v{self.version}"

    def path(self, kind: Kind, name: str) -> str:
        """The path of the scaffold's file of that kind whose name ends with ``name``."""
        return next(f.path for f in self.files if f.kind == kind and f.path.endswith(name))


def init_repository(target: Path, *, force: bool = False, project: str | None = None,
                    region: str | None = None, branch: str = "main") -> Scaffold:
    """Write the scaffold into ``target`` (created if missing); see the module docstring.

    Raises ConfigError for a target that is a file, a project or region that would not
    validate, or a file that cannot be written (a folder in its place, no permission)."""
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target}: not a folder; name the repository's folder")
    if project is not None and (not re.match(PROJECT_PATTERN, project) or len(project) > 64):
        raise ConfigError(f"project {project!r}: use 1 to 64 letters, digits, and _ . -")
    why = _bad_branch(branch)
    if why:
        raise ConfigError(f"branch {branch!r}: {why}; give --branch a git branch name "
                          "such as main")
    region = region or next((os.environ[name] for name in REGION_VARIABLES
                             if os.environ.get(name)), None)
    if region is not None and not re.match(REGION_PATTERN, region):
        raise ConfigError(f"region {region!r}: not a region name such as eu-west-1")
    target = target.resolve()
    root = _git_root(target)
    notes: list[str] = []
    if root is None:
        notes.append(f"{target} is not in a git repository: run `git init` there; the "
                     "workflows run once it is pushed to GitHub")
    github = _github_repository(root) if root else None
    in_git, root = root is not None, root or target
    folder = (target / "rollouts").relative_to(root).as_posix()
    config = _config_name(root / folder)
    # A _config.yaml that exists stays, --force or not: its project (and region, ledger)
    # are the identity of every job the tool made, so rewriting it would start each
    # rollout again as another project's. What was asked is reported.
    kept = _kept_settings(root / folder / config, f"{folder}/{config}")
    for key, asked in (("project", project), ("region", region)):
        if asked and kept.get(key, asked) != asked:
            notes.append(f"{key} {asked} is not written: {folder}/{config} exists and says "
                         f"{kept[key]} (edit it by hand: a new project starts every rollout "
                         "again)")
    project = kept.get("project") or project or _default_project(target, root, github)
    region = kept.get("region") or region
    if region is None:
        region = DEFAULT_REGION
        notes.append(f"region {region}: no --region, AWS_REGION or AWS_DEFAULT_REGION; "
                     "change region: in _config.yaml if your devices are elsewhere")

    tokens = _tokens(folder, project, region, branch)
    try:
        files = _write(target, root, folder, config, tokens, github, force, notes)
    except OSError as exc:
        raise ConfigError(f"cannot write {exc.filename or target}: "
                          f"{exc.strerror or exc}") from exc
    count = sum(f.outcome == "kept" and f.kind != "config" for f in files)
    if count:
        notes.append(f"kept {count} file{'s' if count > 1 else ''} that exist already; "
                     "--force overwrites them")
    return Scaffold(root, folder, project, region, branch, __version__, github, in_git,
                    tuple(files), tuple(notes))


def _write(target: Path, root: Path, folder: str, config: str, tokens: dict[str, str],
           github: str | None, force: bool, notes: list[str]) -> list[Placed]:
    """Write every file (a folder in the place of one stops it before anything is written)."""
    planned: list[tuple[str, Kind, str]] = []
    for name, where, kind in _layout(target, root, folder, config):
        if kind == "example" and _has_manifests(root / folder, besides=root / where):
            notes.append(f"{folder}/ holds manifests already: no example written")
            continue
        planned.append((where, kind, _render(_template(name), tokens)))
    for role, subject in _subjects(github).items():
        trust = _template("github-oidc-trust.json").replace("SUBJECT", subject)
        where = (target / "iam" / f"rollouts-{role}-trust.json").relative_to(root).as_posix()
        planned.append((where, "iam", trust))
    for where in [*(p[0] for p in planned), ".gitignore"]:
        if (root / where).is_dir():
            raise ConfigError(f"{where}: a folder is in the place of a file init writes; "
                              "move it away")
        for parent in Path(where).parents:
            if (root / parent).exists() and not (root / parent).is_dir():
                raise ConfigError(f"{parent.as_posix()}: a file is in the place of a folder "
                                  f"init writes into ({where}); move it away")
    return [*(_place(root, *p, force) for p in planned), _ignore_sandbox(root)]


def _layout(target: Path, root: Path, folder: str,
            config: str) -> list[tuple[str, str, Kind]]:
    """(template, path in the repository, kind) of every file but the trust policies."""
    iam = (target / "iam").relative_to(root).as_posix()
    workflows = ".github/workflows"
    return [
        ("_config.yaml", f"{folder}/{config}", "config"),
        ("example.yaml", f"{folder}/example.yaml", "example"),
        ("rollouts-plan.yml", f"{workflows}/rollouts-plan.yml", "workflow"),
        ("rollouts-apply.yml", f"{workflows}/rollouts-apply.yml", "workflow"),
        ("rollouts-gates.yml", f"{workflows}/rollouts-gates.yml", "workflow"),
        ("plan-policy.json", f"{iam}/rollouts-plan-policy.json", "iam"),
        ("apply-policy.json", f"{iam}/rollouts-apply-policy.json", "iam"),
    ]


def _place(root: Path, where: str, kind: Kind, text: str, force: bool) -> Placed:
    path = root / where
    existed = path.exists()
    if existed and (not force or kind == "config"):
        return Placed(where, kind, "kept")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    return Placed(where, kind, "overwritten" if existed else "written")


def _ignore_sandbox(root: Path) -> Placed:
    """.gitignore holds the sandbox's state folder (added, never anything replaced)."""
    path = root / ".gitignore"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if {IGNORED, IGNORED.rstrip("/"), f"/{IGNORED}", f"/{IGNORED.rstrip('/')}"} & set(
            line.strip() for line in text.splitlines()):
        return Placed(".gitignore", "config", "unchanged")
    outcome: Outcome = "appended" if path.exists() else "written"
    glue = "" if not text or text.endswith("\n") else "\n"
    with path.open("a", encoding="utf-8", newline="\n") as out:
        out.write(f"{glue}# the state of `rollouts ... --sandbox` (a simulated AWS IoT)\n"
                  f"{IGNORED}\n")
    return Placed(".gitignore", "config", outcome)


def _template(name: str) -> str:
    return (resources.files(__package__) / "templates" / name).read_text(encoding="utf-8")


def _tokens(folder: str, project: str, region: str, branch: str) -> dict[str, str]:
    return {"FOLDER": folder, "PROJECT": project, "REGION": region, "BRANCH": branch,
            "VERSION": __version__, "REPOSITORY": REPOSITORY, "PATHS": f"{folder}/**",
            "ENVIRONMENT": ENVIRONMENT}


def _render(template: str, tokens: dict[str, str]) -> str:
    """``@NAME@`` as it is (in comments), ``@NAME_VALUE@`` as a YAML string, ``@NAME_SHELL@``
    quoted for a shell."""

    def one(match: re.Match[str]) -> str:
        name, form = match.group(1), match.group(2)
        value = tokens[name]
        if form == "_VALUE":
            return _yaml_string(value)
        return shlex.quote(value) if form == "_SHELL" else value

    return re.sub(r"@([A-Z]+?)(_VALUE|_SHELL)?@", one, template)


def _yaml_string(value: str) -> str:
    """Plain where YAML (1.1 or 1.2) reads it back as this string, else JSON-quoted (JSON
    is YAML): `0.1.0`, `true` or `3.10` would be read as something else by some reader."""
    plain = re.fullmatch(r"[A-Za-z][A-Za-z0-9_./-]*", value) and value.lower() not in {
        "true", "false", "yes", "no", "on", "off", "y", "n", "null"}
    return value if plain else json.dumps(value)


def _subjects(github: str | None) -> dict[str, str]:
    """The OIDC subject each role trusts: the plan role pull requests, the apply role the
    environment's jobs only."""
    repo = github or "OWNER/REPO"
    return {"plan": f"repo:{repo}:pull_request",
            "apply": f"repo:{repo}:environment:{ENVIRONMENT}"}


def _git_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _github_repository(root: Path) -> str | None:
    """OWNER/REPO of the `origin` remote, where it is on GitHub (ssh or https)."""
    try:
        done = subprocess.run(["git", "remote", "get-url", "origin"], cwd=root,
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"github\.com[:/]([\w.-]+/[\w.-]+?)(?:\.git)?/?$", done.stdout.strip())
    return found.group(1) if done.returncode == 0 and found else None


def _default_project(target: Path, root: Path, github: str | None) -> str:
    """The subfolder's name in a repository of several (each its own project), else the
    GitHub repository's name, else the folder's: as the plan's default, kept in writing so
    a clone under another name stays the same project."""
    name = github.split("/")[1] if github and target == root else target.name
    # A project name is ASCII letters, digits and _ . - (the manifest rule): ñ becomes n.
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    name = "".join(c if c.isalnum() or c in "_.-" else "-" for c in name).strip("-")
    return name[:64] or "rollouts"


def _config_name(folder: Path) -> str:
    """``_config.yaml``, unless the folder has a ``_config.yml`` (kept in its place)."""
    return next((name for name in CONFIG_NAMES[::-1] if (folder / name).is_file()),
                CONFIG_NAMES[0])


def _kept_settings(path: Path, file: str) -> dict[str, str]:
    """The project and region of a ``_config.yaml`` that stays, where it names them."""
    if not path.is_file():
        return {}
    documents, _ = read(path, file)
    data = documents[0].data if documents else None
    if not isinstance(data, dict):
        return {}
    return {key: data[key] for key in ("project", "region") if isinstance(data.get(key), str)}


def _has_manifests(folder: Path, besides: Path) -> bool:
    """Whether the folder holds a manifest other than ``besides`` (init's own example)."""
    if not folder.is_dir():
        return False
    return any(p.suffix in (".yaml", ".yml") and not p.name.startswith("_") and p != besides
               and not any(part.startswith(".") for part in p.relative_to(folder).parts)
               for p in folder.rglob("*"))


def _bad_branch(name: str) -> str | None:
    """Why git (``git check-ref-format --branch``) or a workflow would refuse ``name``."""
    parts = name.split("/")
    if "${{" in name:
        return "GitHub would read ${{ in the workflows as an expression"
    if not name or name == "@" or name.startswith("-"):
        return "not a git branch name"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c in "~^:?*[\\" for c in name):
        return "git refuses spaces, control characters and ~ ^ : ? * [ \\ in a branch name"
    if ".." in name or "@{" in name or name.endswith(".") or "//" in name:
        return "git refuses .., @{, // and a final . in a branch name"
    if any(not p or p.startswith(".") or p.endswith(".lock") for p in parts):
        return "git refuses an empty part, a part starting with . or ending with .lock"
    return None

