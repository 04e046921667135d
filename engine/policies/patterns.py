"""``matches`` with a literal pattern, compiled once instead of at every evaluation.

cel-rust compiles the pattern of ``x.matches('...')`` each time it runs (15-90 µs for a
pattern such as ``^[0-9a-f]{64}$``, against 1-5 µs for any other function). A pattern
written as a plain string literal is known at load, so the expression is rewritten to
call a function bound to that pattern compiled once with RE2 (``google-re2``): the
syntax CEL's specification names for ``matches``, linear in time like cel-rust's own
engine, searched (not anchored) as ``matches`` is. Where the two engines could differ, the
expression is left as written: a pattern RE2 refuses, one with the Perl classes ``\\d \\w
\\s \\b`` (ASCII in RE2, Unicode in cel-rust), one built at run time or with escapes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# The tokens of a CEL expression (``expressions`` checks an expression's shape with them).
TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>[rRbB]{0,2}(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"
                          |'(?:\\.|[^\\'\n])*'|"(?:\\.|[^\\"\n])*"))
  | (?P<number>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?[uU]?|0[xX][0-9a-fA-F]+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>&&|\|\||==|!=|<=|>=|[-+*/%<>!?:.,\[\](){}])
""", re.VERBOSE | re.DOTALL)

# Perl classes whose meaning differs between RE2 (ASCII) and cel-rust (Unicode).
_PERL_CLASS = re.compile(r"\\[dDwWsSbB]")
PREFIX = "_rollouts_matches_"


def literal(token: str) -> str | None:
    """The text of a CEL string literal written plainly (or raw), else None."""
    raw = token[0] in "rR"
    body = token[1:] if raw else token
    if len(body) < 2 or body[0] not in "'\"" or body[:3] in ("'''", '"""'):
        return None
    text = body[1:-1]
    if not raw and "\\" in text:
        return None  # escapes: left to CEL
    return text


def searcher(pattern: str) -> Callable[[Any], bool] | None:
    """A function doing ``text.matches(pattern)``, or None where RE2 and cel-rust could
    disagree on the pattern (it is then left to cel-rust)."""
    if _PERL_CLASS.search(pattern):
        return None
    try:
        import re2  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        return None
    options = re2.Options()
    options.log_errors = False  # a refused pattern is left to CEL, which reports it
    try:
        search = re2.compile(pattern, options).search
    except Exception:  # re2.error: left to cel-rust, whose message the user then sees
        return None

    def matches(text: Any) -> bool:
        if type(text) is not str:
            raise TypeError(f"no such overload: matches on {type(text).__name__}")
        return search(text) is not None

    return matches


def rewrite(text: str, functions: dict[str, Callable[[Any], bool]],
            names: dict[str, str]) -> str:
    """``text`` with each ``.matches('literal')`` it can replace by ``.NAME()``, a function
    added to ``functions`` (``names``: pattern -> NAME, shared by every expression)."""
    found = [(m.lastgroup, m.group(), m.start(), m.end())
             for m in TOKEN.finditer(text) if m.lastgroup != "space"]
    out: list[str] = []
    position = 0
    for i in range(1, len(found) - 3):
        window = [value for _, value, _, _ in found[i - 1:i + 4]]
        if (window[:3] != [".", "matches", "("] or window[4] != ")"
                or found[i + 2][0] != "string"):
            continue
        pattern = literal(window[3])
        if pattern is None:
            continue
        name = names.get(pattern)
        if name is None:
            function = searcher(pattern)
            if function is None:
                continue
            name = names[pattern] = f"{PREFIX}{len(names)}"
            functions[name] = function
        out += [text[position:found[i][2]], f"{name}()"]
        position = found[i + 3][3]
    return "".join(out) + text[position:]
