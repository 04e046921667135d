"""A job's document, from ``document`` (a mapping or a JSON string) or ``documentFile``:
read, parsed and brought to canonical JSON, with every problem of it as findings."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from engine.cache import digest_bytes
from engine.files import read_bounded
from engine.loader.tree import JobSource, Tree, display_name
from engine.loader.yamlfile import Path_
from engine.schema.document import (
    Finding,
    canonical_document,
    parse_json_text,
    written_numbers,
)
from engine.schema.models import Manifest

MAX_DOCUMENT_FILE_BYTES = 1024 * 1024


def job_document(m: Manifest, source: JobSource, tree: Tree,
              deps: list[tuple[str, str | None]]) -> tuple[str | None, list[Finding]]:
    """The canonical document of a job, from ``document`` or ``documentFile``."""
    if m.documentFile is not None:
        path: tuple[str | int, ...] = ("documentFile",)
        base = Path(source.origin(path).file).resolve().parent
        text, findings = _read_document_file(m.documentFile, base, tree.repo_root, deps)
        if text is None:
            return None, findings
        value, findings = parse_json_text(text, path)
    elif isinstance(m.document, str):
        path = ("document",)
        value, findings = parse_json_text(m.document, path)
    elif m.document is not None:
        path = ("document",)
        value, findings = written_numbers(m.document, partial(_scalar_text, source)), []
    else:
        return None, []
    if findings:
        return None, findings
    return canonical_document(value, path)


def _scalar_text(source: JobSource, at: Path_) -> str | None:
    """The text of the YAML scalar at ``document`` + ``at``, in whichever file gave it."""
    path = ("document", *at)
    return source.origin(path).scalar_text(path)


def _read_document_file(name: str, base: Path, repo_root: Path,
                        deps: list[tuple[str, str | None]]) -> tuple[str | None, list[Finding]]:
    """The text of a document file inside the repository; ``deps`` records what was read."""
    path = ("documentFile",)
    if not name.strip():
        return None, [Finding(path, "documentFile is empty: name a JSON file beside the "
                                    "manifest")]
    if Path(name).is_absolute():
        return None, [Finding(path, "documentFile must be a path relative to the manifest, "
                                    "inside the repository")]
    try:
        target = (base / name).resolve()
        target.is_file()  # a name the system cannot hold (a NUL byte, too long) fails here
    except (OSError, ValueError) as exc:
        return None, [Finding(path, f"documentFile {name[:80]!r} is not a usable file name "
                                    f"({exc}); name a JSON file beside the manifest")]
    if not target.is_relative_to(repo_root.resolve()):
        return None, [Finding(path, f"documentFile {name} points outside the repository "
                                    f"({display_name(repo_root)}); keep documents inside it")]
    if target.is_dir():
        return None, [Finding(path, f"documentFile {name} is a folder; name a JSON file")]
    if not target.is_file():
        deps.append((str(target), None))  # creating it later must be seen
        return None, [Finding(path, f"documentFile {name} does not exist "
                                    f"(looked for {display_name(target)})")]
    raw = read_bounded(target, MAX_DOCUMENT_FILE_BYTES + 1)
    deps.append((str(target), digest_bytes(raw)))
    if len(raw) > MAX_DOCUMENT_FILE_BYTES:
        return None, [Finding(path, f"documentFile {name} is over 1 MiB; a job document may "
                                    "be at most 32 KiB (use documentSource for large ones)")]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        return None, [Finding(path, f"documentFile {name} is not UTF-8 text")]
