"""Read one YAML file into plain data, keeping every node's position.

Parsing uses libyaml through PyYAML's C composer when it is there (about 20x faster than a
pure-Python round-trip loader), and PyYAML's pure-Python composer otherwise. The composed
nodes carry the line and column of every key and value; they are kept beside the data so
that positions are looked up only for values that turn out to be wrong.

Scalars are resolved by YAML 1.2's core schema, not PyYAML's YAML 1.1 rules: ``yes``,
``on`` and ``2025-01-01`` stay strings, as a reader of the manifest expects.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.errors import Problem
from engine.files import read_bounded

MAX_FILE_BYTES = 1024 * 1024
# A document that expands (through aliases) to more values than this is an alias bomb.
MAX_VALUES = 100_000
MAX_DEPTH = 200

_BaseLoader: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
_TAG = "tag:yaml.org,2002:"
_SEQ, _MAP = _TAG + "seq", _TAG + "map"
_DEFAULT_TAGS = {ScalarNode: _TAG + "str", SequenceNode: _TAG + "seq", MappingNode: _TAG + "map"}


class _Loader(_BaseLoader):  # type: ignore[misc]
    """Composes nodes only; untagged nodes get the default tag, scalars are resolved later.

    PyYAML's resolver runs a Python loop of regular expressions for every scalar; the
    core-schema resolution in ``_Builder.scalar`` does the same work once, faster.
    """

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        return _DEFAULT_TAGS[kind]

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass  # path resolvers are never registered here

    def ascend_resolver(self) -> None:
        pass


_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_NON_TEXT_STARTS = frozenset("0123456789+-.~nNtTfF")
# Starts of a null or a boolean: once those words are ruled out, such a scalar is text.
_WORD_STARTS = frozenset("~nNtTfF")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_SPECIAL_FLOATS = {
    ".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf,
    ".nan": math.nan,
}
_PLAIN_TAGS = frozenset({_TAG + t for t in ("str", "int", "float", "bool", "null")})


Path_ = tuple[str | int, ...]


@dataclass
class YamlDocument:
    """One YAML document of a file: its data and the node tree it came from."""

    file: str
    index: int
    data: Any
    node: Node

    def find(self, path: Path_) -> tuple[int, Node | None, Node | None]:
        """Walk ``path``; return how many components matched, the last key node and value node."""
        node: Node = self.node
        key_node: Node | None = None
        depth = 0
        for part in path:
            found = _child(node, part)
            if found is None:
                break
            key_node, node = found
            depth += 1
        return depth, key_node, node

    def scalar_text(self, path: Path_) -> str | None:
        """The text of the scalar at ``path`` as written (``1e2``, not ``100.0``), or None."""
        depth, _, node = self.find(path)
        if depth == len(path) and isinstance(node, ScalarNode):
            return str(node.value)
        return None

    def position(self, path: Path_, *, at_key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the value at ``path``, or of its deepest existing parent.

        With ``at_key`` the position is that of the key naming the value, where there is one.
        A collection value is located at its key too, since it starts on the key's line.
        """
        _, key_node, node = self.find(path)
        target = node
        if key_node is not None and (at_key or not isinstance(node, ScalarNode)):
            target = key_node
        assert target is not None
        mark = target.start_mark
        return mark.line + 1, mark.column + 1


def _child(node: Node, part: str | int) -> tuple[Node | None, Node] | None:
    if isinstance(node, MappingNode):
        if isinstance(part, int):
            # A mapping given where the API has a list (tags as {key: value}): item i.
            if 0 <= part < len(node.value):
                key, value = node.value[part]
                return key, value
            return None
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == part:
                return key, value
        return None
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return None, node.value[part]
    return None


class _Builder:
    """Turns a node tree into plain data, collecting problems instead of raising."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.count = 0

    def problem(self, node: Node, message: str) -> None:
        mark = node.start_mark
        self.problems.append(Problem(self.file, mark.line + 1, mark.column + 1, "", message))

    def build(self, node: Node, depth: int = 0) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise _TooLarge(node)
        kind = type(node)
        if kind is ScalarNode:
            return self.scalar(node)  # type: ignore[arg-type]
        if depth > MAX_DEPTH:
            raise _TooDeep(node)
        if kind is MappingNode:
            return self.mapping(node, depth)  # type: ignore[arg-type]
        if node.tag != _SEQ:
            self.problem(node, f"the YAML tag {node.tag} is not supported here")
        return [self.build(item, depth + 1) for item in node.value]

    def mapping(self, node: MappingNode, depth: int) -> dict[str, Any]:
        if node.tag != _MAP:
            self.problem(node, f"the YAML tag {node.tag} is not supported here")
        result: dict[str, Any] = {}
        build = self.build
        for key_node, value_node in node.value:
            if type(key_node) is not ScalarNode:
                self.problem(key_node, "a key must be a plain string, not a list or mapping")
                continue
            key = key_node.value
            if key in result or key == "<<":
                self.odd_key(node, key_node)
                continue
            result[key] = build(value_node, depth + 1)
        return result

    def odd_key(self, node: MappingNode, key_node: ScalarNode) -> None:
        """A repeated key, or a YAML merge key: both are problems."""
        key = key_node.value
        if key == "<<" and not key_node.style:
            self.problem(key_node, "YAML merge keys (<<) are not supported; "
                                   "put shared settings in a _defaults.yaml file instead")
            return
        first = next(k for k, _ in node.value if k.value == key)
        self.problem(key_node, f"duplicate key {key!r} (first at line "
                               f"{first.start_mark.line + 1}); remove one of them")

    def scalar(self, node: ScalarNode) -> Any:
        value: str = node.value
        tag = node.tag
        if tag not in _PLAIN_TAGS:
            self.problem(node, f"the YAML tag {tag} is not supported; write a plain value")
            return value
        if node.style and tag == _TAG + "str":
            return value  # quoted or block scalars are always strings
        if value and value[0] not in _NON_TEXT_STARTS:
            return value  # most scalars: text that cannot be a number, boolean or null
        if value in _NULLS:
            return None
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        if value[0] in _WORD_STARTS:
            return value  # "thing/...", "firmware": no number starts so
        try:
            if value.isdigit() and value.isascii():
                return int(value)  # the common number: no sign, no point
            if _INT.fullmatch(value):
                return int(value)
            if value.startswith(("0x", "0o")) and len(value) > 2:
                return int(value[2:], 16 if value[1] == "x" else 8)
            if _FLOAT.fullmatch(value):
                return float(value)
        except ValueError:
            self.problem(node, f"the number {value[:20]}... is too large")
            return None
        special = _SPECIAL_FLOATS.get(value.lower())
        if special is not None and value[-3:] in ("inf", "Inf", "INF", "nan", "NaN", "NAN"):
            return special
        return value


class _TooLarge(Exception):
    def __init__(self, node: Node) -> None:
        self.node = node


class _TooDeep(Exception):
    def __init__(self, node: Node) -> None:
        self.node = node


def _line_col_of_offset(text: str | bytes, offset: int) -> tuple[int, int]:
    newline: Any = b"\n" if isinstance(text, bytes) else "\n"
    line = text.count(newline, 0, offset) + 1
    start = text.rfind(newline, 0, offset) + 1
    return line, offset - start + 1


def decode(raw: bytes, file: str) -> tuple[str | None, list[Problem]]:
    """The text of a file, or the problem that stops it being read as YAML."""
    if len(raw) > MAX_FILE_BYTES:
        what = ("the most a policies file may be (its 200 policies at most fit in far less: "
                "shorten them)" if file.rsplit("/", 1)[-1].startswith("_policies.") else
                "the most a manifest may be (put large documents in S3 and use "
                "documentSource)")
        return None, [Problem(file, 0, 0, "", f"the file is over {MAX_FILE_BYTES:,} bytes, "
                              + what)]
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, col = _line_col_of_offset(raw, nul)
        return None, [Problem(file, line, col, "", "the file is binary (it holds a NUL byte), "
                              "not YAML text")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col_of_offset(raw, exc.start)
        return None, [Problem(file, line, col, "",
                              f"the file is not UTF-8 (byte 0x{raw[exc.start]:02x}); "
                              "save it as UTF-8")]
    # A byte-order mark is harmless: editors on Windows write one.
    return text.removeprefix("\ufeff"), []


def parse(text: str, file: str) -> tuple[list[YamlDocument], list[Problem]]:
    """Every non-empty document of a YAML text, or the problems that stop it."""
    documents: list[YamlDocument] = []
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        return [], [_yaml_problem(exc, text, file)]
    except yaml.YAMLError as exc:
        return [], [_reader_problem(exc, text, file)]
    except RecursionError:
        return [], [Problem(file, 0, 0, "", "the YAML is nested too deeply to read")]
    problems: list[Problem] = []
    for index, node in enumerate(nodes):
        if node is None:
            continue
        builder = _Builder(file)
        try:
            data = builder.build(node)
        except _TooLarge as exc:
            line, col = exc.node.start_mark.line + 1, exc.node.start_mark.column + 1
            problems.append(Problem(file, line, col, "",
                                    f"the document expands to more than {MAX_VALUES:,} values "
                                    "(through YAML aliases?); simplify it"))
            continue
        except _TooDeep as exc:
            line, col = exc.node.start_mark.line + 1, exc.node.start_mark.column + 1
            problems.append(Problem(file, line, col, "",
                                    f"the document is nested more than {MAX_DEPTH} levels deep"))
            continue
        problems.extend(builder.problems)
        # A document the reader had to repair (duplicate key, merge key, tag) is not checked
        # further: its other errors would follow from the repair, not from the author.
        # An empty document (a stray `---`) holds no job.
        if data is not None and not builder.problems:
            documents.append(YamlDocument(file, index, data, node))
    return documents, problems


def read_raw(path: str | Path) -> bytes | OSError:
    """A file's bytes, never more than one past the limit, whatever its size."""
    try:
        return read_bounded(path, MAX_FILE_BYTES + 1)
    except OSError as exc:
        return exc


def read(path: Path, file: str, raw: bytes | OSError | None = None
         ) -> tuple[list[YamlDocument], list[Problem]]:
    """Read (unless ``raw`` is given) and parse ``path``; ``file`` is its name in messages."""
    if raw is None:
        raw = read_raw(path)
    if isinstance(raw, OSError):
        return [], [Problem(file, 0, 0, "", f"cannot read the file: {raw.strerror}")]
    text, problems = decode(raw, file)
    if text is None:
        return [], problems
    return parse(text, file)


def _yaml_problem(exc: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    message = exc.problem or "invalid YAML"
    if exc.context:
        message = f"{exc.context}: {message}"
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        message += " (a tab: YAML indents with spaces only)"
    if "Unicode character escape" in message:  # libyaml refuses \ud800, even as a pair
        message += (" (a UTF-16 surrogate such as \\ud800 is no character in YAML; write "
                    "the character itself, or \\U0001F680 for one beyond \\uFFFF)")
    return Problem(file, line, col, "", f"invalid YAML: {message}")


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    return lines[line][column : column + 1] if line < len(lines) else ""


def _reader_problem(exc: yaml.YAMLError, text: str, file: str) -> Problem:
    position = getattr(exc, "position", None)
    line, col = _line_col_of_offset(text, position) if isinstance(position, int) else (0, 0)
    reason = getattr(exc, "reason", None) or str(exc)
    return Problem(file, line, col, "", f"invalid YAML: {reason}")
