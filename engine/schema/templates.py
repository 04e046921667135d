"""AWS managed job templates and the document parameters each one takes.

One table, read from the AWS IoT Developer Guide, "Use AWS managed templates to deploy
common remote operations", section "Managed template remote actions and job documents"
(https://docs.aws.amazon.com/iot/latest/developerguide/job-templates-managed.html).
Every template takes the optional ``runAsUser`` and ``pathToHandler``, except
AWS-Run-Command, whose document has no handler path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ManagedTemplate:
    """The parameters of one AWS managed template: those it needs, and those it may take."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ("runAsUser", "pathToHandler")

    @property
    def parameters(self) -> tuple[str, ...]:
        return (*self.required, *self.optional)


MANAGED_TEMPLATES: dict[str, ManagedTemplate] = {
    "AWS-Download-File": ManagedTemplate(("downloadUrl", "filePath")),
    "AWS-Install-Application": ManagedTemplate(("packages",)),
    "AWS-Reboot": ManagedTemplate(()),
    "AWS-Remove-Application": ManagedTemplate(("packages",)),
    "AWS-Restart-Application": ManagedTemplate(("services",)),
    "AWS-Run-Command": ManagedTemplate(("command",), optional=("runAsUser",)),
    "AWS-Start-Application": ManagedTemplate(("services",)),
    "AWS-Stop-Application": ManagedTemplate(("services",)),
}

# arn:aws:iot:REGION::jobtemplate/AWS-NAME[:VERSION]: no account, the template is AWS's.
MANAGED_TEMPLATE_ARN = re.compile(
    r"^arn:aws[a-z-]*:iot:(?P<region>[a-z0-9-]*)::jobtemplate/(?P<name>AWS-[^:]*)(:.*)?$")


@dataclass(frozen=True)
class ManagedTemplateRef:
    """What an AWS managed template's ARN names: its region and template name."""

    region: str
    name: str


def managed_template(arn: str) -> ManagedTemplateRef | None:
    """The region and name of an AWS managed template's ARN; None for another ARN."""
    match = MANAGED_TEMPLATE_ARN.match(arn)
    if match is None:
        return None
    return ManagedTemplateRef(match["region"], match["name"])
