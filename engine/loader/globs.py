"""The ``exclude:`` globs of ``_config.yaml``: YAML files under the rollouts folder that are
not manifests (documents kept beside them, say).

A glob is a path relative to the top of the rollouts folder, ``/``-separated: ``*`` and
``?`` match within one path segment, ``[abc]`` one of a set, and ``**`` as a whole segment
any number of folders (``documents/**`` is everything below ``documents``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable


class BadGlob(ValueError):
    """A glob that cannot mean what its author wants; the message says why."""


def compile_glob(glob: str) -> re.Pattern[str]:
    """The regular expression of a whole relative path that ``glob`` matches."""
    if not glob.strip():
        raise BadGlob("an empty glob matches nothing; remove it")
    if glob.startswith("/") or re.match(r"^[A-Za-z]:", glob):
        raise BadGlob("a glob is relative to the rollouts folder; remove the leading /")
    if "\\" in glob:
        raise BadGlob("write paths with /, not \\")
    segments = glob.rstrip("/").split("/")
    if ".." in segments:
        raise BadGlob("a glob cannot reach outside the rollouts folder (..)")
    out = ""
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            out += ".*" if last else "(?:[^/]+/)*"
            continue
        if "**" in segment:
            raise BadGlob(f"** must be a whole path segment ({segment!r}); use * within one")
        out += _segment(segment) + ("" if last else "/")
    try:
        return re.compile(out)
    except re.error as exc:  # a character class such as [z-a]
        raise BadGlob(f"{exc}") from exc


def _segment(segment: str) -> str:
    out, i = "", 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[":
            end = segment.find("]", i + 2)
            if end < 0:
                raise BadGlob("an unclosed [ in the glob; close it or write [[] for a [")
            body = segment[i + 1:end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            out += "[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]"
            i = end
        else:
            out += re.escape(char)
        i += 1
    return out


def excluded(path: str, patterns: Iterable[re.Pattern[str]]) -> bool:
    """Whether a relative POSIX path matches one of the compiled globs."""
    return any(p.fullmatch(path) for p in patterns)
