"""The CEL engines behind the policies, one interface: ``compile``, ``context``, ``run``.

``common-expression-language`` (cel-rust, compiled) where it is installed: every Python from
3.11. It has no build for 3.10, where ``cel-python`` (pure Python) stands in: slower, and
stricter in one place (it compares a whole number with a decimal only through ``double()``),
so the policies that both run alike are those the README's examples show. Runtime errors
come out of ``run`` as exceptions (``KeyError`` for a field the job lacks).
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import logging
import os
import re
import sys
from collections.abc import Callable
from typing import Any

from engine.policies import patterns

# cel-rust's message for an error raised by one of the ``patterns`` functions.
_FUNCTION_ERROR = re.compile(
    rf"Function '{patterns.PREFIX}\d+' error: Python function call failed: \w+: "
    r"(?P<message>.*?)\.? Check function arguments and their types\.?$", re.DOTALL)


class RustEngine:
    """common-expression-language: compile once, convert a job once, run each program.

    ``x.matches('literal')`` runs a function bound to the pattern compiled once
    (``patterns``): cel-rust would compile it at each evaluation."""

    name = "common-expression-language"
    # Comprehension steps one evaluation may take: about half a microsecond each.
    max_steps = 200_000

    def __init__(self, module: Any) -> None:
        self.module = module
        self.functions: dict[str, Callable[[Any], bool]] = {}
        self.patterns: dict[str, str] = {}  # pattern -> the name of its function
        # cel-rust logs the error of a Python function it calls; ``run`` reports it.
        logging.getLogger("cel").addFilter(
            lambda record: patterns.PREFIX not in record.getMessage())

    def compile(self, text: str) -> Any:
        try:
            self.module.compile(text)  # the user's text: its errors, as written
            return self.module.compile(patterns.rewrite(text, self.functions,
                                                        self.patterns))
        except RuntimeError as exc:
            raise ValueError(str(exc)) from None

    def context(self, variables: dict[str, Any]) -> Any:
        return self.module.Context(variables=variables, functions=self.functions)

    def run(self, program: Any, context: Any) -> Any:
        try:
            return program.execute(context)
        except RuntimeError as exc:
            found = _FUNCTION_ERROR.match(str(exc))
            if found is None:
                raise
            raise RuntimeError(found["message"]) from None


class PythonEngine:
    """cel-python, interpreted (its compiled runner absorbs no error in ``||``)."""

    name = "cel-python"
    # About a hundred microseconds a step here.
    max_steps = 2_000

    def __init__(self) -> None:
        import celpy  # type: ignore[import-not-found, unused-ignore]

        self.celpy = celpy
        self.env = celpy.Environment()

    def compile(self, text: str) -> Any:
        try:
            return self.env.program(self.env.compile(text))
        except self.celpy.CELParseError as exc:
            raise ValueError(str(exc)) from None

    def context(self, variables: dict[str, Any]) -> Any:
        return {name: self.celpy.json_to_cel(value) for name, value in variables.items()}

    def run(self, program: Any, context: Any) -> Any:
        try:
            result = program.evaluate(context)
        except self.celpy.CELEvalError as exc:
            result = exc
        if isinstance(result, self.celpy.CELEvalError):
            message, kind = [*result.args, None, None][:2]
            if kind is KeyError:
                raise KeyError(str(message).rsplit(": ", 1)[-1]) from None
            raise RuntimeError(str(message))
        if isinstance(result, self.celpy.celtypes.BoolType):
            return bool(result)
        return result


@functools.cache
def cel_engine() -> RustEngine | PythonEngine:
    """The engine this Python has; ImportError where it has none."""
    native = _native_module()
    if native is not None:
        return RustEngine(native)
    try:
        return PythonEngine()
    except ImportError:
        raise ImportError("neither common-expression-language nor cel-python is "
                          "installed") from None


def _native_module() -> Any:
    """cel-rust's native module (``cel.cel``), or None where it is not installed.

    Its package's ``__init__`` imports the engine's own command line (typer, rich,
    prompt_toolkit: a third of a second); the native module alone loads in milliseconds,
    once a process (its initialisation sets a logger, which a second load would fail)."""
    loaded = sys.modules.get("cel.cel")
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec("cel")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(folder, "cel" + suffix)
            native = importlib.util.spec_from_file_location("cel.cel", path)
            if os.path.isfile(path) and native is not None and native.loader is not None:
                module = importlib.util.module_from_spec(native)
                native.loader.exec_module(module)
                sys.modules["cel.cel"] = module  # what ``import cel`` would load, later
                return module
    return None
