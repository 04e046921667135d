"""Text from manifests and from AWS made harmless for a terminal."""

from __future__ import annotations

import re

# C0 and C1 control characters (escape sequences start with ESC, 0x1b), but not \n or \t,
# and the bidirectional overrides that make text read differently from what it is.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_text(value: str) -> str:
    """Control characters shown as escapes, so no string can move the cursor or recolour."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) > 0xFF
                        else f"\\x{ord(m.group()):02x}", value)
