"""Reading a file with a bound on how much of it is read, whatever the file is."""

from __future__ import annotations

import os

_CHUNK = 64 * 1024


def read_bounded(path: str | os.PathLike[str], limit: int) -> bytes:
    """At most ``limit`` bytes of the file at ``path``; raises OSError.

    Plain ``os`` calls: a manifest is short, and ``open().read(limit)`` would take longer
    than reading it (a buffer of ``limit`` bytes for every file, and the io layers). A
    regular file is read by its size, plus one byte to notice one that grew since; a
    device or a pipe, whose size says nothing, in chunks up to the bound.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        size = os.fstat(fd).st_size
        if size:
            first = os.read(fd, min(size + 1, limit))
            if len(first) <= size:  # a short read of a regular file: the whole of it
                return first
            parts, got = [first], len(first)
        else:
            parts, got = [], 0
        while got < limit:
            chunk = os.read(fd, min(_CHUNK, limit - got))
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)
    finally:
        os.close(fd)
