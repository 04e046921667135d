"""read_bounded: the whole of a short file, never more than the bound of a long or endless
one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.files import read_bounded


@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 300_000])
def test_read_bounded__regular_file__whole_or_the_bound(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f"
    body = bytes(i % 251 for i in range(size))
    path.write_bytes(body)
    assert read_bounded(path, 101) == body[:101]
    assert read_bounded(path, 1_000_000) == body


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_read_bounded__endless_device__stops_at_the_bound() -> None:
    assert read_bounded("/dev/zero", 200_001) == bytes(200_001)


def test_read_bounded__missing_file__oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_bounded(tmp_path / "nope", 10)
