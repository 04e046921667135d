"""Text from manifests and from AWS made harmless for a terminal."""

from __future__ import annotations

import re

# C0 and C1 control characters (escape sequences start with ESC, 0x1b), but not \n or \t.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(value: str) -> str:
    """Control characters shown as escapes, so no string can move the cursor or recolour."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
