"""Find the manifest files of a rollouts folder and merge each folder's ``_defaults.yaml``.

Every ``*.yaml`` / ``*.yml`` below the folder (recursive, sorted; hidden folders skipped) is
read. A file whose name starts with ``_`` holds settings, not jobs: ``_defaults.yaml`` in any
folder, ``_config.yaml`` at the top. Defaults merge into every job at and below their folder:
mappings merge, lists and scalars replace, nearer folders win, the job's own keys win, and
a job that sets a key to null drops the default.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from engine.errors import ConfigError, Problem, Severity
from engine.loader.globs import BadGlob, compile_glob, excluded
from engine.loader.yamlfile import Path_, YamlDocument, read, read_raw

DEFAULTS_NAMES = ("_defaults.yaml", "_defaults.yml")
CONFIG_NAMES = ("_config.yaml", "_config.yml")
# The team's rules (DESIGN.md section 9), at the top only, like _config.yaml.
POLICIES_NAMES = ("_policies.yaml", "_policies.yml")
YAML_SUFFIXES = (".yaml", ".yml")
# Keys that identify one job; a default for them would make every job in the folder clash.
NOT_DEFAULTABLE = ("name", "jobId")


@dataclass
class JobSource:
    """One job as written: its own document, the defaults that apply, and the merged data."""

    document: YamlDocument
    path: Path
    source: str  # the manifest's path inside the repository, POSIX style
    defaults: list[YamlDocument]  # nearest folder first
    data: dict[str, Any]
    # Where the merged data came from a defaults file: dotted path (``abortConfig``,
    # ``tags.team``) -> that file's path inside the repository; the job's own keys absent.
    defaults_from: dict[str, str] = field(default_factory=dict)

    @property
    def file(self) -> str:
        return self.document.file

    def origin(self, path: Path_) -> YamlDocument:
        """The document a value at ``path`` comes from: the job's own, or a defaults file."""
        best, best_depth = self.document, -1
        for doc in (self.document, *self.defaults):
            depth, _, _ = doc.find(path)
            if depth == len(path):
                return doc
            if depth > best_depth:
                best, best_depth = doc, depth
        return best

    def problem(self, path: Path_, message: str, *, at_key: bool = False,
                warning: bool = False) -> Problem:
        """A problem at ``path``, located in whichever file gave that value."""
        doc = self.origin(path)
        line, column = doc.position(path, at_key=at_key)
        severity = Severity.WARNING if warning else Severity.ERROR
        return Problem(doc.file, line, column, format_path(path), message, severity)


@dataclass
class Tree:
    """A rollouts folder: its settings, read up front, and its job files, read on demand.

    ``jobs()`` reads one file at a time, so that the node trees of a large folder are never
    all alive together; the problems found reading are appended to ``problems``.
    """

    root: Path
    repo_root: Path
    config: YamlDocument | None = None
    policies: YamlDocument | None = None
    problems: list[Problem] = field(default_factory=list)
    # The job files, as the walk named them, and each one's parts below ``root`` (strings,
    # not Paths: a warm run reads thousands of files and builds a Path for none of them).
    job_paths: list[str] = field(default_factory=list)
    job_parts: list[tuple[str, ...]] = field(default_factory=list)
    defaults: dict[Path, YamlDocument] = field(default_factory=dict)
    # Each settings file's path inside the repository (POSIX style), by its shown name.
    sources: dict[str, str] = field(default_factory=dict)
    # A digest of every settings file (defaults and config): a cache key part.
    settings_digest: str = ""

    @property
    def job_files(self) -> list[Path]:
        return [Path(p) for p in self.job_paths]

    def jobs(self) -> Iterator[JobSource]:
        for path in self.job_files:
            yield from self.jobs_of(path)

    def add_defaults(self, path: Path, doc: YamlDocument) -> None:
        """A ``_defaults.yaml`` for the jobs at and below its folder."""
        self.defaults[path.parent] = doc
        try:
            self.sources[doc.file] = path.relative_to(self.repo_root).as_posix()
        except ValueError:
            self.sources[doc.file] = path.as_posix()

    def relative(self, path: Path) -> tuple[str, ...]:
        return path.relative_to(self.root).parts

    def jobs_of(self, path: Path, raw: bytes | OSError | None = None) -> Iterator[JobSource]:
        """The jobs of one manifest file (its bytes, if already read), defaults merged in."""
        parts = self.relative(path)
        source = "/".join((*self.repo_prefix, *parts))
        documents, problems = read(path, os.path.join(self.shown_root, *parts), raw)
        self.problems.extend(problems)
        chain = [self.defaults[f] for f in (path.parent, *path.parent.parents)
                 if f in self.defaults]
        for doc in documents:
            if not isinstance(doc.data, dict):
                line, col = doc.position(())
                self.problems.append(Problem(doc.file, line, col, "",
                                             "a job must be a mapping of CreateJob keys "
                                             "(jobId, targets, document, ...)"))
                continue
            data: dict[str, Any] = {}
            origins: dict[str, str] = {}
            for default in reversed(chain):  # farthest first, so nearer folders win
                data = deep_merge(data, default.data, origins, self.sources[default.file])
            # Onto nothing, a merge is a copy (most manifests have no defaults file).
            data = deep_merge(data, doc.data, origins) if chain else dict(doc.data)
            yield JobSource(doc, path, source, chain, data, origins)

    @cached_property
    def shown_root(self) -> str:
        # Names are worked out from the folder's once: a relpath or resolve per file is slow.
        return display_name(self.root)

    @cached_property
    def repo_prefix(self) -> tuple[str, ...]:
        return self.root.relative_to(self.repo_root).parts


def format_path(path: Path_) -> str:
    """``('abortConfig', 'criteriaList', 0)`` -> ``abortConfig.criteriaList[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def display_name(path: Path) -> str:
    """The name a user sees for a file: relative to the working folder where that is short."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith(".." + os.sep + "..") else rel


def folder_project(repo_root: Path) -> str:
    """The project of a folder whose _config.yaml sets none: its repository folder's name."""
    name = "".join(c if c.isalnum() or c in "_.-" else "-" for c in repo_root.name)
    return name[:64] or "rollouts"


def find_repo_root(start: Path) -> Path:
    """The git work tree holding ``start``; without one, ``start`` itself."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def deep_merge(base: dict[str, Any], override: dict[str, Any],
               origins: dict[str, str] | None = None, source: str | None = None,
               prefix: str = "") -> dict[str, Any]:
    """``override`` merged into ``base``: mappings merge, lists and scalars replace, and a
    null drops what ``base`` gave (inside a job document, a null is a value: it is kept).

    ``origins`` (dotted path -> file) records what ``source`` gave; what an override
    without a source (the job's own manifest) replaces is forgotten."""
    merged = dict(base)
    for key, value in override.items():
        path = f"{prefix}.{key}" if prefix else key
        below = merged.get(key)
        if value is None and key in merged and not path.startswith("document."):
            del merged[key]
            if origins:
                _forget(origins, path)
        elif isinstance(value, dict) and isinstance(below, dict):
            if origins and path in origins:  # a mapping one file gave, merged: its keys are
                whole = origins.pop(path)
                origins.update({f"{path}.{k}": whole for k in below})
            merged[key] = deep_merge(below, value, origins, source, path)
        else:
            merged[key] = value
            if origins:
                _forget(origins, path)
            if origins is not None and source is not None:
                origins[path] = source
    return merged


def _forget(origins: dict[str, str], path: str) -> None:
    for known in [k for k in origins if k == path or k.startswith((path + ".", path + "["))]:
        del origins[known]


def _manifest_files(root: Path) -> list[tuple[tuple[str, ...], str]]:
    """Every YAML file under ``root`` with its path parts below it, sorted by those parts."""
    found: list[tuple[tuple[str, ...], str]] = []
    top = str(root)
    for folder, subfolders, files in os.walk(top):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        below = tuple(os.path.relpath(folder, top).split(os.sep)) if folder != top else ()
        found.extend(((*below, f), os.path.join(folder, f))
                     for f in files if f.endswith(YAML_SUFFIXES))
    return sorted(found, key=lambda item: item[0])


def load_tree(root: Path) -> Tree:
    """Find the files under ``root`` and read its settings; problems are kept, never raised."""
    root = root.resolve()
    tree = Tree(root=root, repo_root=find_repo_root(root))
    if not root.is_dir():
        tree.problems.append(Problem(display_name(root), 0, 0, "",
                                     "no such folder; create it or name the rollouts folder"))
        return tree
    digest = hashlib.blake2b(digest_size=16)
    _read_above(tree, digest)
    for parts, name_of_path in _manifest_files(root):
        name = parts[-1]
        if not name.startswith("_"):
            tree.job_paths.append(name_of_path)
            tree.job_parts.append(parts)
            continue
        path = Path(name_of_path)
        raw = read_raw(path)  # read once: for the cache key's digest, then parsed
        digest.update(str(path).encode() + b"\0"
                      + (b"" if isinstance(raw, OSError) else raw) + b"\0")
        if name in DEFAULTS_NAMES:
            doc = _read_settings(path, tree.problems, raw)
            if doc is not None:
                _check_defaults(doc, tree.problems)
                tree.add_defaults(path, doc)
        elif name in POLICIES_NAMES and path.parent == root:
            tree.policies = _read_policies(path, tree.problems, raw)
        elif name in CONFIG_NAMES or name in POLICIES_NAMES:
            if path.parent != root:
                tree.problems.append(Problem(display_name(path), 0, 0, "",
                                             f"{name} is read only at the top of the rollouts "
                                             f"folder ({display_name(root)}); move it there"))
            else:
                tree.config = _read_settings(path, tree.problems, raw)
        else:
            tree.problems.append(Problem(display_name(path), 0, 0, "",
                                         "files starting with _ hold settings, and the only "
                                         "ones known are _defaults.yaml, _config.yaml and "
                                         "_policies.yaml; "
                                         "rename it"))
    tree.settings_digest = digest.hexdigest()
    _exclude(tree)
    return tree


def _exclude(tree: Tree) -> None:
    """Leave out the job files that ``_config.yaml``'s ``exclude:`` globs match (relative to
    the top of the rollouts folder); a glob that cannot work is a problem at its line."""
    config = tree.config
    globs = config.data.get("exclude") if config is not None else None
    if config is None or not isinstance(globs, list):
        return  # none; or not a list, which the config's schema reports
    patterns = []
    for index, glob in enumerate(globs):
        if not isinstance(glob, str):
            continue  # the schema reports it
        try:
            patterns.append(compile_glob(glob))
        except BadGlob as exc:
            line, col = config.position(("exclude", index))
            tree.problems.append(Problem(config.file, line, col, f"exclude[{index}]",
                                         f"{glob!r} is not a usable glob: {exc}"))
    if not patterns:
        return
    below = tree.root.relative_to(top_of(tree.root)).parts
    kept = [(name, parts) for name, parts in zip(tree.job_paths, tree.job_parts, strict=True)
            if not excluded("/".join((*below, *parts)), patterns)]
    tree.job_paths = [name for name, _ in kept]
    tree.job_parts = [parts for _, parts in kept]


def find_rollouts(folder: Path) -> Path:
    """The folder a command reads: ``folder`` where it exists; the default ``rollouts``
    is found as git finds ``.git``, from the working folder upwards (inside the repository),
    so every command works from any subfolder. A folder that is not there is a ConfigError:
    a command has nothing to read."""
    if folder.is_dir():
        return folder
    if folder == Path("rollouts"):
        here = Path.cwd()
        repo_root = find_repo_root(here)
        for above in (here, *here.parents):
            if (above / "rollouts").is_dir():
                return above / "rollouts"
            if above == repo_root:
                break
    raise ConfigError(f"{folder}: no such folder; create it or name the rollouts folder")


def top_of(root: Path) -> Path:
    """The top of the rollouts folder that holds ``root``: the nearest folder at or above it
    (inside its repository) with a ``_config.yaml``; ``root`` itself where none has one."""
    repo_root = find_repo_root(root)
    for folder in (root, *root.parents):
        if any((folder / name).is_file() for name in CONFIG_NAMES):
            return folder
        if folder == repo_root:
            break
    return root


def _read_above(tree: Tree, digest: Any) -> None:
    """A subfolder planned on its own reads the top's ``_config.yaml`` and the
    ``_defaults.yaml`` of every folder between the top and it, as a plan of the top would."""
    root = tree.root
    top = top_of(root)
    if top == root:
        return
    folders = [f for f in root.parents if f == top or top in f.parents]
    for folder in reversed(folders):  # top first
        for name in (*CONFIG_NAMES, *POLICIES_NAMES, *DEFAULTS_NAMES):
            path = folder / name
            if not path.is_file() or (name not in DEFAULTS_NAMES and folder != top):
                continue
            raw = read_raw(path)
            digest.update(str(path).encode() + b"\0"
                          + (b"" if isinstance(raw, OSError) else raw) + b"\0")
            doc = (_read_policies if name in POLICIES_NAMES else _read_settings)(
                path, tree.problems, raw)
            if doc is None:
                continue
            if name in CONFIG_NAMES:
                tree.config = doc
            elif name in POLICIES_NAMES:
                tree.policies = doc
            else:
                _check_defaults(doc, tree.problems)
                tree.add_defaults(path, doc)


def _read_settings(path: Path, problems: list[Problem],
                   raw: bytes | OSError) -> YamlDocument | None:
    documents, read_problems = read(path, display_name(path), raw)
    problems.extend(read_problems)
    if not documents:
        return None
    if len(documents) > 1 or not isinstance(documents[0].data, dict):
        line, col = documents[-1].position(())
        problems.append(Problem(documents[0].file, line, col, "",
                                "a settings file holds one mapping, not several documents "
                                "or a list"))
        return None
    return documents[0]


def _read_policies(path: Path, problems: list[Problem],
                   raw: bytes | OSError) -> YamlDocument | None:
    """``_policies.yaml``: what stops it being read is a CONFIG_ERROR, as its content's are."""
    found: list[Problem] = []
    doc = _read_settings(path, found, raw)
    problems.extend(replace(p, code="CONFIG_ERROR") for p in found)
    return doc


def _check_defaults(doc: YamlDocument, problems: list[Problem]) -> None:
    for key in NOT_DEFAULTABLE:
        if key in doc.data:
            line, col = doc.position((key,), at_key=True)
            problems.append(Problem(doc.file, line, col, key,
                                    f"{key} names one job and cannot be a default; "
                                    "set it in the job's own manifest"))
            del doc.data[key]
