"""Checking downloaded files against the Hub's own hashes, and evicting bad ones from the cache.

huggingface_hub checks a download's size, not its content: a corrupt file of the right size is
cached under its advertised name and returned by every later call. Each file is therefore hashed
here against `model_info(files_metadata=True)`: the LFS SHA-256 for large files, the git blob
SHA-1 (`sha1(b"blob <size>\\0" + content)`) for small ones. A mismatch deletes the cached blob
and its snapshot link, so nothing later finds the bad copy.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CHUNK = 4 << 20


@dataclass(frozen=True)
class RemoteFile:
    """One file of one commit of a Hub repo, with the hash the Hub publishes for it."""

    repo: str
    rfilename: str
    commit: str
    size: int
    sha256: str | None  # LFS files
    blob_id: str | None  # git blob SHA-1 (every file; the hash that matters for non-LFS ones)

    @property
    def label(self) -> str:
        return f"{self.repo}/{self.rfilename}"


def digest(
    path: Path, remote: RemoteFile, on_bytes: Callable[[int], object] | None = None
) -> tuple[str, str]:
    """(kind, hex digest) of the local file in the form the Hub publishes for `remote`."""
    if remote.sha256:
        kind, h = "sha256", hashlib.sha256()
    else:
        kind, h = "git-sha1", hashlib.sha1(usedforsecurity=False)
        h.update(b"blob %d\0" % os.path.getsize(path))
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            if on_bytes is not None:
                on_bytes(len(chunk))
    return kind, h.hexdigest()


def mismatch(path: Path, remote: RemoteFile, on_bytes: Callable[[int], object] | None = None) -> str | None:
    """Why the local copy differs from what the Hub publishes, or None when it matches."""
    size = os.path.getsize(path)
    if size != remote.size:
        return f"{size} bytes, the Hub says {remote.size}"
    expected = remote.sha256 or remote.blob_id
    if not expected:
        return "the Hub publishes no hash for it"
    kind, actual = digest(path, remote, on_bytes)
    if actual != expected.lower():
        return f"{kind} {actual[:12]}…, the Hub says {expected[:12]}…"
    return None


def blob_of(pointer: Path) -> Path:
    """The cache blob a snapshot link points at (the file itself where the cache has no links)."""
    return Path(os.path.realpath(pointer))


def evict(pointer: Path, blob: Path | None = None) -> None:
    """Delete a cached file: its blob and its snapshot link."""
    blob = blob or blob_of(pointer)
    for path in {blob, pointer}:
        path.unlink(missing_ok=True)
    log.info("deleted %s and its cache blob %s", pointer, blob)
