"""CEL expressions of the policies: read, checked and compiled once, before any job.

The engine is ``common-expression-language`` (cel-rust, compiled; README "Policies" has the
measurements that chose it), or ``cel-python`` on Python 3.10 (``engines``). What it
cannot say before a run is checked here, on the expression's tokens: its size and nesting
(a parser fed 10,000 brackets is not asked), the fields it reads straight from ``job`` and
``rollout`` (a field no CreateJob request can have is an error at load, not a silent false
at every plan), the functions it calls, and how deep its comprehensions nest, which with
the job's data bounds what one evaluation costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.policies.engines import cel_engine
from engine.policies.patterns import TOKEN

# Bounds on one expression (README "Policies": hostile policies).
MAX_EXPRESSION_CHARS = 2_000
MAX_NESTING = 32  # brackets and parentheses
MAX_COMPREHENSION_DEPTH = 3

MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
# CEL's standard functions (operators are named ``_op_``, ``!_``, ``@in``, ...).
FUNCTIONS = frozenset({
    "size", "contains", "startsWith", "endsWith", "matches", "int", "uint", "double",
    "string", "bool", "bytes", "type", "dyn", "has", "timestamp", "duration",
    "getFullYear", "getMonth", "getDayOfMonth", "getDayOfWeek", "getDayOfYear", "getHours",
    "getMinutes", "getSeconds", "getMilliseconds", "getDate",
})

# What may stand before ``(``: functions, macros, and the words of the language.
CALLABLE = FUNCTIONS | MACROS | {"in", "true", "false", "null"}

_TOKEN = TOKEN


class BadExpression(ValueError):
    """An expression that cannot be a policy's: the message says why and what to do."""


@dataclass(frozen=True)
class Shape:
    """What the tokens of an expression tell before it runs."""

    paths: tuple[tuple[str, ...], ...]  # ('job', 'abortConfig', ...) read straight
    depth: int  # how deep its comprehensions nest
    comprehensions: int
    widening: int  # list literals' longest and ``+`` count: how much a list may grow
    whole: frozenset[str]  # variables read whole (``size(job)``), not field by field
    # Paths read inside a comprehension's body: cel-rust copies the field they start from
    # (``job.document`` for ``job.document.s``) at each step that reads them.
    inner: tuple[tuple[str, ...], ...] = ()
    accumulates: bool = False  # map or filter: the list it builds is copied at each step
    joins: int = 1  # 1 + the ``+`` count: how many values one step may join into one


@dataclass(frozen=True)
class Reach:
    """What one job offers an expression's comprehensions, weighed in steps' worth of
    work (``weigh``): a list entry or a map entry 1, a string 1 more per 100 characters."""

    longest: int  # the most entries of a list or map the expressions reach
    heft: int  # the heaviest field a body's path starts from (``job.document``)
    bulk: int  # the heaviest value the expressions reach (a list map or filter walks)
    joined: int = 0  # the heaviest value a body's path reads (what a step may join)


def tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        found = _TOKEN.match(text, position)
        if found is None:
            raise BadExpression(f"unexpected character {text[position]!r} at column "
                                f"{position + 1}")
        kind = found.lastgroup or ""
        if kind != "space":
            out.append((kind, found.group()))
        position = found.end()
    return out


def shape(text: str) -> Shape:
    """The expression's shape; BadExpression where it is too large or too deep."""
    if len(text) > MAX_EXPRESSION_CHARS:
        raise BadExpression(f"the expression is {len(text):,} characters long, over the "
                            f"{MAX_EXPRESSION_CHARS:,} a policy may have; split the policy")
    toks = tokens(text)
    nesting = 0
    # For each open bracket: whether it opened a comprehension's arguments.
    opened: list[bool] = []
    depth = count = plus = longest_literal = 0
    commas: list[int] = []
    paths: list[tuple[str, ...]] = []
    inner: list[tuple[str, ...]] = []
    whole: set[str] = set()
    accumulates = False
    for i, (kind, value) in enumerate(toks):
        if value in ("(", "[", "{"):
            nesting += 1
            if nesting > MAX_NESTING:
                raise BadExpression(f"brackets nest more than {MAX_NESTING} deep; "
                                    "simplify the expression")
            macro = (value == "(" and i >= 2 and toks[i - 1][1] in MACROS
                     and toks[i - 2][1] == ".")
            opened.append(macro)
            # Entries of a list or map literal so far; -1 where the brackets hold arguments.
            commas.append(0 if value in "[{" else -1)
            if macro:
                count += 1
                accumulates = accumulates or toks[i - 1][1] in ("map", "filter")
                depth = max(depth, sum(opened))
                if depth > MAX_COMPREHENSION_DEPTH:
                    raise BadExpression(f"comprehensions (all, exists, map, ...) nest more "
                                        f"than {MAX_COMPREHENSION_DEPTH} deep; simplify "
                                        "the expression")
        elif value in (")", "]", "}"):
            nesting -= 1
            if opened:
                opened.pop()
                longest_literal = max(longest_literal, commas.pop() + 1)
        elif value == ",":
            if commas and commas[-1] >= 0:
                commas[-1] += 1
        elif value == "+":
            plus += 1
        elif (kind == "ident" and i + 1 < len(toks) and toks[i + 1][1] == "("
              and value not in CALLABLE):
            raise BadExpression(f"unknown function {value}; CEL's standard functions are "
                                "size, contains, startsWith, endsWith, matches, int, double, "
                                "string, ...")
        elif kind == "ident" and value in ("job", "rollout") and (
                i == 0 or toks[i - 1][1] != "."):
            path = [value]
            j = i + 1
            while (j + 1 < len(toks) and toks[j][1] == "." and toks[j + 1][0] == "ident"
                   and not (j + 2 < len(toks) and toks[j + 2][1] == "(")):
                path.append(toks[j + 1][1])
                j += 2
            if len(path) == 1:
                whole.add(value)
            paths.append(tuple(path))
            if any(opened):
                inner.append(tuple(path))
    return Shape(tuple(paths), depth, count, max(longest_literal, 1) * (1 + plus),
                 frozenset(whole), tuple(inner), accumulates, 1 + plus)


def steps(shape_: Shape, reach: Reach) -> int:
    """An upper estimate of the work of one evaluation, in steps (about half a microsecond
    each): comprehensions x (longest x growth)^depth steps, each costing 1, plus the
    fields its body reads (copied at each step), plus, for map and filter, the list built
    so far (copied at each step: map and filter are quadratic in cel-rust), which weighs
    at most what its steps joined: the list walked, or the fields read at each step."""
    if not shape_.comprehensions:
        return 0
    width = max(reach.longest, 1) * shape_.widening
    each = 1 + len(shape_.inner) * reach.heft
    if shape_.accumulates:
        each += shape_.joins * max(reach.bulk, width * reach.joined if shape_.inner else 0)
    return int(shape_.comprehensions * width ** shape_.depth * each)


def weigh(value: Any) -> tuple[int, int]:
    """``value``'s weight (``Reach``) and the most entries of a list or map in it."""
    if type(value) is str:
        return 1 + len(value) // 100, 0
    if type(value) is not dict and type(value) is not list:
        return 1, 0
    weight = 1
    chars = longest = 0
    stack = [value]
    while stack:  # iterative: a document may nest deeper than recursion allows
        item = stack.pop()
        longest = max(longest, len(item))
        weight += len(item)
        entries: Any = item
        if type(item) is dict:
            chars += sum(map(len, item))
            entries = item.values()
        for entry in entries:
            kind = type(entry)
            if kind is str:
                chars += len(entry)
            elif kind is dict or kind is list:
                stack.append(entry)
    return weight + chars // 100, longest


def bad_pattern(text: str) -> str | None:
    """Why a pattern written as a string literal in ``x.matches('...')`` can never run
    (the engine refuses it), or None: found at load, not as a failure of every job."""
    toks = tokens(text)
    engine = cel_engine()
    for i in range(1, len(toks) - 3):
        if ([value for _, value in toks[i - 1:i + 2]] != [".", "matches", "("]
                or toks[i + 2][0] != "string" or toks[i + 3][1] != ")"):
            continue
        try:  # the engine's own verdict on the pattern, as the policy would meet it
            engine.run(engine.compile(f"''.matches({toks[i + 2][1]})"), engine.context({}))
        except Exception as exc:
            message = " ".join(str(exc).split())[:200]
            return f"the pattern {toks[i + 2][1]} of matches is not valid: {message}"
    return None


def compile_cel(text: str) -> Any:
    """The compiled program; BadExpression with the parser's message where it cannot."""
    try:
        return cel_engine().compile(text)
    except ValueError as exc:
        message = " ".join(str(exc).split())
        raise BadExpression(f"does not compile: {message}") from None
