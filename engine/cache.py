"""The validation cache: what each manifest file validated to, keyed by its content.

A plan of a large folder where nothing changed need not parse every file again. Each
entry is keyed by the file's bytes and path, every settings file, the tool's version and
the working folder; it also lists the document files it read, with their digests, and is
used only while they are unchanged. As git does, a file is not even read again while its
size, times, inode and device are those it had when read, and it had not changed for two
seconds before then (a later edit cannot keep them all: ctime moves even when mtime is put
back). An entry holds the checked manifest's data, trusted because this version of the
tool checked these very bytes (the manifest's model is built again only where a step asks
for it: the clock rules of a job to create), and the spec hashes worked out for its jobs,
by account and region.

Entries are written with ``marshal``, as Python writes its own bytecode cache: it reads
back in half the time JSON takes, which at thousands of manifests is much of a warm
run. Its format belongs to one Python version, so each version has a file of its own.

The cache lives outside the repository (``$XDG_CACHE_HOME`` or ``~/.cache``), so a pull
request cannot plant entries; it is off in CI (``CI`` set) and with ``ROLLOUTS_NO_CACHE``.
Deleting it is always safe.
"""

from __future__ import annotations

import gc
import hashlib
import marshal
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

from engine import __version__
from engine.files import read_bounded

FORMAT = 8  # 7: each job's defaults_from; 8: problems' codes, jobs' policy waivers


class Entry(NamedTuple):
    """What one manifest file validated to (kept in the file as a plain tuple)."""

    jobs: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    deps: list[tuple[str, str | None]]  # document files read: path, digest (None: absent)


# Document files are read up to this much (validation refuses larger ones).
MAX_DEPENDENCY_BYTES = 1024 * 1024 + 1
# git's "racily clean" rule: a file last changed this long before its signature was taken
# is told unchanged by that signature alone, since a later edit cannot keep its times.
RACY_NS = 2_000_000_000

Signature = tuple[int, int, int, int, int]  # size, mtime, ctime (ns), inode, device


def signature(path: str) -> Signature | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def digest_bytes(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def digest_file(path: str) -> str | None:
    """The digest of a regular file's first bytes (never a device or a pipe), or None."""
    if not os.path.isfile(path):
        return None
    try:
        return digest_bytes(read_bounded(path, MAX_DEPENDENCY_BYTES))
    except OSError:
        return None


class ValidationCache:
    def __init__(self, path: Path, context: str) -> None:
        self.path = path
        self.context = context
        # key -> (jobs, problems, deps) as read: an Entry is made only for an entry used
        self.entries: dict[str, tuple[Any, ...]] = {}
        self.used: set[str] = set()
        self.changed = False
        self.hashes_added = False  # a plan worked out a spec hash the entries lacked
        self.started_ns = time.time_ns()  # before any file of this run is looked at
        # relative path -> (signature, key, when taken): files read by an earlier run
        self.paths: dict[str, tuple[Signature, str, int]] = {}
        self.paths_seen: dict[str, tuple[Signature, str, int]] = {}
        # Decoding makes many small objects that live until the run ends and hold no cycles:
        # the cyclic collector would scan every live object again and again while they
        # pile up (at 10,000 manifests, most of a warm run), and at each full collection
        # after (frozen until ``save``).
        paused = gc.isenabled()
        gc.disable()
        try:
            data = marshal.loads(path.read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return
        finally:
            if paused:
                gc.enable()
        gc.freeze()
        if (not isinstance(data, dict) or data.get("format") != FORMAT
                or data.get("context") != context):
            return  # another version of the tool, or another folder set-up
        entries, paths = data.get("entries"), data.get("paths")
        if isinstance(entries, dict) and isinstance(paths, dict):
            self.entries, self.paths = entries, paths  # as written: tuples stay tuples

    def _entry(self, key: str) -> Entry | None:
        raw = self.entries.get(key)
        if not isinstance(raw, tuple) or len(raw) != 3:
            return None  # absent, or damaged
        return Entry(*raw)

    def _hashes(self, job_key: str) -> dict[str, str] | None:
        """The spec hashes kept with the job ``<entry key>#<index>``, by "account/region"."""
        entry_key, _, index = job_key.partition("#")
        try:
            job = self.entries[entry_key][0][int(index)]
            hashes: dict[str, str] = job.get("hashes")
            if not isinstance(hashes, dict):
                hashes = job["hashes"] = {}
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            return None  # not in the cache, or damaged
        return hashes

    def spec_hash(self, job_key: str, context: str) -> str | None:
        """The spec hash a run worked out for the job ``job_key`` in ``context``."""
        hashes = self._hashes(job_key)
        digest = hashes.get(context) if hashes is not None else None
        return digest if isinstance(digest, str) else None

    def remember_hash(self, job_key: str, context: str, digest: str) -> None:
        hashes = self._hashes(job_key)
        if hashes is not None:
            hashes[context] = digest
            self.hashes_added = True

    def known_key(self, relative: str, sig: Signature) -> str | None:
        """The key of a file whose signature says it is as an earlier run read it."""
        known = self.paths.get(relative)
        if known is None:
            return None
        try:
            recorded, key, taken = known
            if recorded != sig or max(sig[1], sig[2]) >= taken - RACY_NS:
                return None
        except (TypeError, ValueError):
            return None  # damaged
        self.paths_seen[relative] = known
        return key

    def read_as(self, relative: str, sig: Signature, key: str) -> None:
        """``relative``, whose signature was ``sig`` before it was read, holds ``key``."""
        self.paths_seen[relative] = (sig, key, self.started_ns)

    def key(self, relative: str, content: bytes) -> str:
        digest = hashlib.blake2b(content, digest_size=16)
        digest.update(b"\0" + relative.encode())
        return digest.hexdigest()

    def get(self, key: str) -> Entry | None:
        entry = self._entry(key)
        try:
            if entry is None or any(digest_file(p) != d for p, d in entry.deps):
                return None
        except (TypeError, ValueError):
            return None  # damaged
        self.used.add(key)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        self.entries[key] = tuple(entry)
        self.used.add(key)
        self.changed = True

    def save(self) -> None:
        """Write the entries used in this run (others are gone), atomically."""
        gc.unfreeze()
        if (not self.changed and self.used == set(self.entries)
                and not self.hashes_added and self.paths_seen == self.paths):
            return
        kept = {k: e for k, e in self.entries.items() if k in self.used}
        body = {"format": FORMAT, "context": self.context,
                "entries": {k: tuple(e) for k, e in kept.items()},
                "paths": {relative: known for relative, known in self.paths_seen.items()
                          if known[1] in kept}}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".validation-")
            with os.fdopen(fd, "wb") as handle:
                marshal.dump(body, handle)
            os.replace(tmp, self.path)
        except OSError:
            pass  # a cache that cannot be written is only a slower next run


def cache_for(root: Path, repo_root: Path, settings_digest: str) -> ValidationCache | None:
    """The cache of this rollouts folder, or None where caching is off."""
    if os.environ.get("CI") or os.environ.get("ROLLOUTS_NO_CACHE"):
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder_id = hashlib.blake2b(str(root).encode(), digest_size=8).hexdigest()
    context = "|".join([__version__, sys.version.split()[0], os.getcwd(), str(repo_root),
                        str(root), settings_digest])
    # marshal's format is Python's own: each Python version keeps a file of its own.
    name = f"validation-{folder_id}.{sys.implementation.cache_tag}.marshal"
    return ValidationCache(base / "iot-rollouts" / name, context)
