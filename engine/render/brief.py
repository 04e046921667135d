"""A create's request in brief, for the text plan: what a reviewer needs to see of a job
before it starts (targets, document, rollout rate, abort criteria, timeouts, schedule)."""

from __future__ import annotations

import json
from typing import Any

from engine.render.safe import clean_text

DOCUMENT_WIDTH = 100
# Keys shown on a line of their own below; the tags are the tool's own, shown nowhere.
_SHOWN = ("jobId", "tags", "targets", "targetSelection", "document", "documentSource",
          "jobTemplateArn", "documentParameters", "description",
          "jobExecutionsRolloutConfig", "abortConfig", "timeoutConfig",
          "jobExecutionsRetryConfig", "schedulingConfig", "presignedUrlConfig")


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # AWS's doubles: a threshold of 10.0 reads as 10
    plain = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return clean_text(" ".join(plain.split()))


def _cut(text: str) -> str:
    return text if len(text) <= DOCUMENT_WIDTH else text[:DOCUMENT_WIDTH] + "..."


def rollout(config: dict[str, Any]) -> str:
    parts = []
    if "maximumPerMinute" in config:
        parts.append(f"at most {_text(config['maximumPerMinute'])} a minute")
    rate = config.get("exponentialRate")
    if isinstance(rate, dict):
        criteria = rate.get("rateIncreaseCriteria") or {}
        after = " or ".join(f"{_text(criteria[key])} {word}" for key, word in (
            ("numberOfNotifiedThings", "notified"), ("numberOfSucceededThings", "succeeded"))
            if key in criteria)
        parts.append(f"from {_text(rate.get('baseRatePerMinute'))} a minute, "
                     f"x{_text(rate.get('incrementFactor'))} after every {after}")
    return "; ".join(parts)


def abort(config: dict[str, Any]) -> str:
    return "; ".join(f"{_text(c.get('action'))} when {_text(c.get('thresholdPercentage'))}% "
                     f"{_text(c.get('failureType'))} (after at least "
                     f"{_text(c.get('minNumberOfExecutedThings'))} executions)"
                     for c in config.get("criteriaList", []))


def retries(config: dict[str, Any]) -> str:
    return ", ".join(f"{_text(c.get('failureType'))} {_text(c.get('numberOfRetries'))} times"
                     for c in config.get("criteriaList", []))


def schedule(config: dict[str, Any]) -> str:
    parts = [f"{word} {_text(config[key])}" for key, word in (
        ("startTime", "starts"), ("endTime", "ends"), ("endBehavior", "at the end"))
        if key in config]
    windows = config.get("maintenanceWindows") or []
    if windows:
        parts.append("maintenance windows " + ", ".join(
            f"{_text(w.get('startTime'))} for {_text(w.get('durationInMinutes'))} minutes"
            for w in windows))
    return ", ".join(parts)


def brief(request: dict[str, Any]) -> list[str]:
    """The request of a create (or a replace's create) in a few lines."""
    selection = request.get("targetSelection")
    lines = [f"targets: {', '.join(_text(t) for t in request.get('targets', []))}"
             + (f" ({_text(selection)})" if selection else "")]
    if "document" in request:
        lines.append(f"document: {_cut(_text(request['document']))}")
    if "documentSource" in request:
        lines.append(f"document from {_text(request['documentSource'])}")
    if "jobTemplateArn" in request:
        lines.append(f"template: {_text(request['jobTemplateArn'])}")
    if "documentParameters" in request:
        lines.append(f"parameters: {_cut(_text(request['documentParameters']))}")
    if "description" in request:
        lines.append(f"description: {_text(request['description'])}")
    for key, label, show in (("jobExecutionsRolloutConfig", "rollout", rollout),
                             ("abortConfig", "abort", abort),
                             ("jobExecutionsRetryConfig", "retries", retries),
                             ("schedulingConfig", "schedule", schedule)):
        if isinstance(request.get(key), dict) and show(request[key]):
            lines.append(f"{label}: {show(request[key])}")
        if key == "abortConfig" and "timeoutConfig" in request:
            minutes = request["timeoutConfig"].get("inProgressTimeoutInMinutes")
            lines.append(f"timeout: {_text(minutes)} minutes in progress")
    presigned = request.get("presignedUrlConfig")
    if isinstance(presigned, dict):
        lines.append(f"presigned URLs: role {_text(presigned.get('roleArn'))}, valid "
                     f"{_text(presigned.get('expiresInSec', 3600))} s")
    lines += [f"{clean_text(key)}: {_cut(_text(value))}" for key, value in request.items()
              if key not in _SHOWN]
    return lines
