"""``rollouts/_policies.yaml``: its schema, and the policies it holds, compiled once.

A file that does not fit the schema, an expression that does not compile or reads a field
no job can have is a problem (code CONFIG_ERROR) at its own line, found before any
manifest is judged; with any such problem no policy is run.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, ValidationError

from engine.errors import Problem
from engine.loader.tree import format_path
from engine.loader.yamlfile import YamlDocument
from engine.policies.expressions import BadExpression, Shape, bad_pattern, compile_cel, shape
from engine.resolve import _NOT_SENT
from engine.schema.messages import explain
from engine.schema.models import ApiModel, Manifest, PolicyId

CONFIG_ERROR = "CONFIG_ERROR"
MAX_POLICIES = 200

# What ``rollout`` holds (README "Policies").
ROLLOUT_FIELDS = ("name", "project", "account", "region", "source", "waves")
# What ``job`` holds: the CreateJob request as sent, less the jobId and the tool's tags.
JOB_FIELDS = tuple(f for f in Manifest.model_fields
                   if f not in _NOT_SENT or f in ("document", "tags"))


class PolicySpec(ApiModel):
    """One policy as written."""

    id: PolicyId = Field(description="The policy's name, as manifests' policyExceptions "
                                     "name it.")
    description: Annotated[str, Field(max_length=1000)] | None = Field(
        None, description="What the policy is for.")
    level: Literal["error", "warning"] = Field(
        "error", description="error: a job that breaks it fails validate, plan and apply; "
                             "warning: it is reported only.")
    match: Annotated[str, Field(min_length=1)] | None = Field(
        None, description="CEL over job and rollout: which jobs the rule binds (default: all).")
    rule: Annotated[str, Field(min_length=1)] = Field(
        description="CEL over job and rollout: true when the job keeps the policy.")
    message: Annotated[str, Field(max_length=1000)] | None = Field(
        None, description="What a violation says (default: the rule).")
    exceptions: Literal["allowed", "forbidden"] = Field(
        "allowed", description="Whether a manifest may claim an exception in "
                               "policyExceptions.")


class PoliciesFile(ApiModel):
    """``rollouts/_policies.yaml``."""

    policies: Annotated[list[PolicySpec], Field(max_length=MAX_POLICIES)] = Field(
        description="The team's rules, each checked on every job by validate, plan and apply.")


@dataclass(frozen=True)
class Policy:
    """A policy ready to judge jobs: its expressions compiled."""

    spec: PolicySpec
    match: Any  # the compiled program, or None: every job
    rule: Any
    match_shape: Shape | None
    rule_shape: Shape

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def message(self) -> str:
        return self.spec.message or f"{self.spec.rule} does not hold"

    @property
    def error(self) -> bool:
        return self.spec.level == "error"


def load_policies(doc: YamlDocument, problems: list[Problem]) -> list[Policy] | None:
    """The compiled policies of ``doc``, or None (and problems at their lines) if any of
    them cannot be used."""
    found: list[Problem] = []
    try:
        parsed = PoliciesFile.model_validate(doc.data)
    except ValidationError as exc:
        for error in exc.errors()[:50]:
            message, at_key = explain(PoliciesFile, error)
            if error["loc"] == ("policies",) and error.get("input", 0) is None:
                message = "empty: give a list of policies, or delete the file"
            line, col = doc.position(error["loc"], at_key=at_key)
            found.append(Problem(doc.file, line, col, format_path(error["loc"]), message,
                                 code=CONFIG_ERROR))
        problems.extend(found)
        return None
    policies: list[Policy] = []
    seen: dict[str, int] = {}
    for index, spec in enumerate(parsed.policies):
        if spec.id in seen:
            line, col = doc.position(("policies", index, "id"))
            found.append(Problem(doc.file, line, col, f"policies[{index}].id",
                                 f"policy id {spec.id} is also the id of policies"
                                 f"[{seen[spec.id]}]; ids are unique", code=CONFIG_ERROR))
        seen.setdefault(spec.id, index)
        compiled: dict[str, tuple[Any, Shape]] = {}
        for key in ("match", "rule"):
            text = getattr(spec, key)
            if text is None:
                continue
            try:
                form = shape(text)
                unknown = _unknown_field(form)
                if unknown:
                    raise BadExpression(unknown)
                compiled[key] = (compile_cel(text), form)
                pattern = bad_pattern(text)
                if pattern:
                    raise BadExpression(pattern)
            except BadExpression as exc:
                line, col = doc.position(("policies", index, key))
                found.append(Problem(doc.file, line, col, f"policies[{index}].{key}",
                                     f"policy {spec.id}: {exc}", code=CONFIG_ERROR))
        if len(compiled) == (2 if spec.match is not None else 1):
            match = compiled.get("match")
            policies.append(Policy(spec, match[0] if match else None, compiled["rule"][0],
                                   match[1] if match else None, compiled["rule"][1]))
    problems.extend(found)
    return None if found else policies


def _unknown_field(form: Shape) -> str | None:
    """Why a path the expression reads can be in no job, or None if each can."""
    for path in form.paths:
        if len(path) < 2:
            continue
        if path[0] == "rollout":
            if path[1] not in ROLLOUT_FIELDS:
                return _no_such(".".join(path[:2]), path[1], ROLLOUT_FIELDS, "rollout")
            continue
        model: Any = Manifest
        for depth, name in enumerate(path[1:], start=1):
            fields = (JOB_FIELDS if model is Manifest else tuple(model.model_fields))
            if name not in fields:
                where = "a CreateJob request" if model is Manifest else ".".join(path[:depth])
                return _no_such(".".join(path[:depth + 1]), name, fields, where)
            model = _model_of(model.model_fields[name].annotation)
            if model is None:
                break  # a list, a mapping, the document: any key may be there
    return None


def _no_such(path: str, name: str, known: tuple[str, ...], where: str) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]}?" if close else f"; it has {', '.join(known)}"
    return f"{path}: {where} has no field {name}{hint}"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model class an annotation holds (``AbortConfig | None``), if it is one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (Union, types.UnionType, Annotated):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None
