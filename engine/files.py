"""Reading a file with a bound on how much of it is read, whatever the file is."""

from __future__ import annotations

import errno
import os
import stat

_CHUNK = 64 * 1024


def read_bounded(path: str | os.PathLike[str], limit: int) -> bytes:
    """At most ``limit`` bytes of the file at ``path``; raises OSError.

    Plain ``os`` calls: a manifest is short, and ``open().read(limit)`` would take longer
    than reading it (a buffer of ``limit`` bytes for every file, and the io layers). A
    regular file is read by its size, plus one byte to notice one that grew since; a
    device or a pipe, whose size says nothing, in chunks up to the bound.
    """
    # Not blocking on open: a named pipe opened for reading waits for a writer forever.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if stat.S_ISFIFO(st.st_mode) or stat.S_ISSOCK(st.st_mode):
            raise OSError(errno.EINVAL, "a named pipe or a socket, not a file")
        size = st.st_size
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
