"""The rules between fields of a manifest that a single field's type cannot say.

Each rule reads a validated ``Manifest`` and returns ``Finding`` records; none raises.
The rules that depend on the clock are apart (``clock_findings``): they bind a job that a
plan would create, and are only warnings for ``validate``, which knows nothing of AWS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from engine.review.cron import parse_cron
from engine.schema.document import MAX_PLACEHOLDERS, Finding, placeholders
from engine.schema.messages import nearest
from engine.schema.models import Manifest
from engine.schema.templates import MANAGED_TEMPLATES, managed_template

# The API's 50 per resource, less the tool's own: project, name, spec-hash, source, commit,
# canceled-by and mutable-hash.
MAX_USER_TAGS = 50 - 7
RESERVED_TAG_PREFIXES = ("aws:", "rollouts:")
MIN_SCHEDULE = timedelta(minutes=30)
# AWS managed templates have no account in their ARN: arn:aws:iot:REGION::jobtemplate/AWS-...
MANAGED_TEMPLATE = re.compile(r"^arn:aws[a-z-]*:iot:[a-z0-9-]+::jobtemplate/AWS-")
DOCUMENT_KEYS = ("document", "documentFile", "documentSource")
# The API reference: "the combined numberOfRetries of all failure types" is at most 10.
MAX_RETRIES = 10


def check(m: Manifest, document_text: str | None,
          default_region: str | None = None) -> list[Finding]:
    """Every rule between fields; ``document_text`` is the canonical document, if any;
    ``default_region`` the region of a job that names none (``_config.yaml``'s)."""
    return [
        *_document_sources(m),
        *_managed_template(m, m.region or default_region),
        *_retries(m),
        *_presigned_urls(m, document_text),
        *_rollout(m),
        *_unique_failure_types(m),
        *_schedule(m),
        *_targets(m),
        *_tags(m),
    ]


def _document_sources(m: Manifest) -> Iterable[Finding]:
    given = [key for key in DOCUMENT_KEYS if getattr(m, key) is not None]
    if len(given) > 1:
        yield Finding((given[1],), f"give only one of {', '.join(DOCUMENT_KEYS)} "
                                   f"(this job has {' and '.join(given)})", at_key=True)
    elif not given and m.jobTemplateArn is None:
        yield Finding((), "the job has no document: give document, documentFile or "
                          "documentSource, or a jobTemplateArn that supplies one")
    if m.documentParameters is not None:
        if m.jobTemplateArn is None:
            yield Finding(("documentParameters",), "documentParameters work only with "
                          "jobTemplateArn (an AWS managed template)", at_key=True)
        elif not MANAGED_TEMPLATE.match(m.jobTemplateArn):
            yield Finding(("documentParameters",), "documentParameters work only with AWS "
                          "managed templates (arn:aws:iot:REGION::jobtemplate/AWS-...), "
                          "not with your own template", at_key=True)


def _managed_template(m: Manifest, region: str | None) -> Iterable[Finding]:
    """An AWS managed template's own parameters, and its region the job's."""
    if m.jobTemplateArn is None:
        return
    ref = managed_template(m.jobTemplateArn)
    if ref is None:
        return
    arn = ("jobTemplateArn",)
    template = MANAGED_TEMPLATES.get(ref.name)
    if template is None:
        close = nearest(ref.name, list(MANAGED_TEMPLATES))
        hint = f"did you mean {close}? " if close else ""
        yield Finding(arn, f"unknown AWS managed template {ref.name}; {hint}the known ones "
                           f"are {', '.join(MANAGED_TEMPLATES)}")
        return
    if region is not None and ref.region != region:
        yield Finding(arn, f"the template is in region {ref.region!r} but the job runs in "
                           f"{region}; use arn:aws:iot:{region}::jobtemplate/{ref.name}:...")
    given = m.documentParameters or {}
    for key in given:
        if key not in template.parameters:
            close = nearest(key, list(template.parameters))
            hint = (f"did you mean {close}?" if close else
                    f"it takes {', '.join(template.parameters)}")
            yield Finding(("documentParameters", key), f"unknown parameter {key} of "
                          f"{ref.name}; {hint}", at_key=True)
    missing = [p for p in template.required if p not in given]
    if missing:
        where = ("documentParameters",) if m.documentParameters is not None else arn
        yield Finding(where, f"{ref.name} needs the parameter"
                      f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}: add "
                      "them under documentParameters", at_key=True)


def _retries(m: Manifest) -> Iterable[Finding]:
    retry = m.jobExecutionsRetryConfig
    if retry is None:
        return
    total = sum(c.numberOfRetries for c in retry.criteriaList)
    if total > MAX_RETRIES:
        yield Finding(("jobExecutionsRetryConfig", "criteriaList"),
                      f"{total} retries in all; AWS allows at most {MAX_RETRIES} retries of "
                      "all failure types together: lower numberOfRetries", at_key=True)


def _presigned_urls(m: Manifest, document_text: str | None) -> Iterable[Finding]:
    if m.documentSource is not None and placeholders(m.documentSource):
        yield Finding(("documentSource",), "a presigned-URL placeholder belongs in the document, "
                      "not in documentSource")
    found = placeholders(document_text) if document_text is not None else []
    where = ("documentFile",) if m.documentFile is not None else ("document",)
    if len(found) > MAX_PLACEHOLDERS:
        yield Finding(where, f"the document has {len(found)} presigned-URL placeholders; "
                      f"the API allows at most {MAX_PLACEHOLDERS}", at_key=True)
    if found and m.presignedUrlConfig is None:
        yield Finding(where, "the document has a presigned-URL placeholder "
                      "(${aws:iot:s3-presigned-url:...}) but the job has no presignedUrlConfig "
                      "to sign it with; add presignedUrlConfig.roleArn", at_key=True)
    elif m.presignedUrlConfig is not None and not found and m.documentSource is None:
        yield Finding(("presignedUrlConfig",), "presignedUrlConfig has no effect: the document "
                      "has no ${aws:iot:s3-presigned-url:...} placeholder", warning=True,
                      at_key=True)
    if m.presignedUrlConfig is not None and m.presignedUrlConfig.roleArn is None and found:
        yield Finding(("presignedUrlConfig",), "presignedUrlConfig needs roleArn, the role "
                      "AWS IoT assumes to sign the URLs", at_key=True)


def _rollout(m: Manifest) -> Iterable[Finding]:
    rollout = m.jobExecutionsRolloutConfig
    if rollout is None or rollout.exponentialRate is None:
        return
    criteria = rollout.exponentialRate.rateIncreaseCriteria
    given = [n for n in ("numberOfNotifiedThings", "numberOfSucceededThings")
             if getattr(criteria, n) is not None]
    if len(given) != 1:
        path = ("jobExecutionsRolloutConfig", "exponentialRate", "rateIncreaseCriteria")
        yield Finding(path, "give exactly one of numberOfNotifiedThings and "
                            f"numberOfSucceededThings (found {len(given)})", at_key=True)


def _unique_failure_types(m: Manifest) -> Iterable[Finding]:
    lists: list[tuple[str, list[str]]] = []
    if m.abortConfig is not None:
        lists.append(("abortConfig", [c.failureType for c in m.abortConfig.criteriaList]))
    if m.jobExecutionsRetryConfig is not None:
        lists.append(("jobExecutionsRetryConfig",
                      [c.failureType for c in m.jobExecutionsRetryConfig.criteriaList]))
    for field, types in lists:
        for index, failure_type in enumerate(types):
            if failure_type in types[:index]:
                yield Finding((field, "criteriaList", index, "failureType"),
                              f"failureType {failure_type} is already used by "
                              f"criteriaList[{types.index(failure_type)}]; "
                              "each failure type may appear once")


def parse_time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M")
    except ValueError:
        return None


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def _schedule(m: Manifest) -> Iterable[Finding]:
    s = m.schedulingConfig
    if s is None:
        return
    base = ("schedulingConfig",)
    start = parse_time(s.startTime) if s.startTime else None
    end = parse_time(s.endTime) if s.endTime else None
    for key, text, value in (("startTime", s.startTime, start), ("endTime", s.endTime, end)):
        if text is not None and value is None:
            yield Finding((*base, key), f"{text} is not a real date and time")
    if s.endTime is not None and s.startTime is None:
        yield Finding((*base, "endTime"), "endTime needs a startTime", at_key=True)
    if start is not None and end is not None:
        if end - start < MIN_SCHEDULE:
            yield Finding((*base, "endTime"), "endTime must be at least 30 minutes after "
                          "startTime")
        elif end > _add_years(start, 2):
            yield Finding((*base, "endTime"), "endTime must be at most 2 years after startTime")
    if s.endBehavior is not None and s.endTime is None:
        yield Finding((*base, "endBehavior"), "endBehavior has no effect without endTime",
                      warning=True, at_key=True)
    if s.maintenanceWindows and s.startTime is None:
        yield Finding((*base, "maintenanceWindows"), "maintenance windows recur inside a "
                      "schedule: set schedulingConfig.startTime (and endTime)", at_key=True)
    for index, window in enumerate(s.maintenanceWindows or ()):
        problem = _cron_problem(window.startTime)
        if problem:
            yield Finding((*base, "maintenanceWindows", index, "startTime"), problem)


def _cron_problem(text: str) -> str | None:
    """What AWS would refuse in a window's cron: a value out of its field's range, ? in
    both or neither day field. (L, W and #, which AWS takes, are not judged here.)"""
    try:
        parse_cron(text)
    except ValueError as exc:
        message = str(exc)
        unsupported = re.search(r"'([^']*)' in the (\S+) field is not supported", message)
        if unsupported and not re.search(r"[LW#]", unsupported.group(1)):
            return (f"{text}: {unsupported.group(1)!r} is no value of the "
                    f"{unsupported.group(2)} field")
        if unsupported or "wraps around" in message:
            return None  # L, W, # and wrapping ranges: AWS takes them, the figures do not
        return message
    return None


def clock_findings(m: Manifest, now: datetime, *, warning: bool) -> list[Finding]:
    """The rules that depend on the clock (``now``, naive UTC) for a job about to be created."""
    s = m.schedulingConfig
    if s is None or s.startTime is None:
        return []
    start = parse_time(s.startTime)
    if start is None:
        return []
    path = ("schedulingConfig", "startTime")
    findings = []
    if start < now + MIN_SCHEDULE:
        findings.append(Finding(path, f"startTime {s.startTime} must be at least 30 minutes "
                                "from now when the job is created", warning=warning))
    elif start > _add_years(now, 1):
        findings.append(Finding(path, f"startTime {s.startTime} must be at most 1 year from "
                                "now when the job is created", warning=warning))
    end = parse_time(s.endTime) if s.endTime else None
    if end is not None and end > _add_years(now, 2):
        findings.append(Finding(("schedulingConfig", "endTime"), f"endTime {s.endTime} must "
                                "be at most 2 years from now", warning=warning))
    return findings


def _targets(m: Manifest) -> Iterable[Finding]:
    seen: dict[str, int] = {}
    for index, target in enumerate(m.targets or ()):
        # thinggroup/x and its ARN are one target (the shorthand takes the job's account and
        # region; an ARN of another is refused when the plan resolves it).
        key = target.split(":", 5)[-1] if target.startswith("arn:") else target
        if key in seen:
            yield Finding(("targets", index), f"{target} is already targets[{seen[key]}]")
        seen.setdefault(key, index)


def _tags(m: Manifest) -> Iterable[Finding]:
    if not m.tags:
        return
    if len(m.tags) > MAX_USER_TAGS:
        yield Finding(("tags",), f"{len(m.tags)} tags; at most {MAX_USER_TAGS} (the API's 50 "
                      "less the 7 rollouts:* tags the tool adds)", at_key=True)
    seen: set[str] = set()
    for index, tag in enumerate(m.tags):
        if tag.Key.lower().startswith(RESERVED_TAG_PREFIXES):
            yield Finding(("tags", index, "Key"), f"tag key {tag.Key} is reserved: keys "
                          "starting with aws: belong to AWS, rollouts: to this tool",
                          at_key=True)
        if tag.Key in seen:
            yield Finding(("tags", index, "Key"), f"tag key {tag.Key} is given twice",
                          at_key=True)
        seen.add(tag.Key)
