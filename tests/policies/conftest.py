"""The CEL engine has no build for Python 3.10 (README "Policies"): there, these skip."""

from __future__ import annotations

import pytest

pytest.importorskip("cel")
