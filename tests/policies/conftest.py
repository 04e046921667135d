"""The policy tests run on the CEL engine this Python has (``engine.policies.engines``)."""

from __future__ import annotations

import pytest

from engine.policies.engines import RustEngine, cel_engine

# cel-python (Python 3.10) compares a whole number with a decimal only through double().
rust_only = pytest.mark.skipif(not isinstance(cel_engine(), RustEngine),
                               reason="cel-python refuses int/double comparisons")
