"""`dallebot models download`: fetch, verify, (convert,) load once, register.

Order, so that nothing incomplete is ever loaded by a later command:
1. ask the Hub for the repo's file list with hashes (`model_info(files_metadata=True)`), pinned to
   one commit; pick the files (catalog.py); check free disk space for what is not cached yet;
2. fetch each file through huggingface_hub's cache (its progress bar, its retries with `Range`
   after a dropped connection) and hash it against the Hub's SHA-256 / git SHA-1; a mismatch
   evicts the cached copy and fetches once more, a second mismatch is an error;
3. in a staging folder: link the files (or convert a Flax checkpoint), load the model once;
4. write the manifest, then rename the staging folder into place.
A run that dies anywhere before 4 leaves at most a staging folder, which no name resolves to
and the next download of that name deletes.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from tqdm import tqdm

from generation.hub import errors
from generation.hub.catalog import Layout, LayoutError, Plan, detect_layout, spec_for
from generation.hub.errors import DownloadError, human
from generation.hub.registry import (
    MODEL_SUBDIR,
    STAGING_PREFIX,
    Entry,
    HubSettings,
    entries,
    install,
    key_for,
    read_entry,
    write_manifest,
)
from generation.hub.verify import RemoteFile, blob_of, evict, mismatch

log = logging.getLogger(__name__)

Say = Callable[[str], None]
DISK_MARGIN = 64 << 20  # bytes kept free beyond what the download needs


def free_bytes(path: Path) -> tuple[int, int]:
    """(free bytes, device id) of the filesystem that holds `path` (or its nearest existing parent)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return shutil.disk_usage(candidate).free, candidate.stat().st_dev
    raise DownloadError(f"cannot find a filesystem for {path}")


def download(
    name: str,
    revision: str | None = None,
    *,
    settings: HubSettings | None = None,
    say: Say = log.info,
    force: bool = False,
) -> Entry:
    """Download (and, for Flax checkpoints, convert) `name`, verify it, load it once, register it."""
    settings = settings or HubSettings.from_env()
    spec = spec_for(name)
    key = key_for(name)
    if settings.offline:
        entry = read_entry(settings, name)
        state = "is already downloaded" if entry and not entry.problems() else "is not downloaded"
        raise DownloadError(
            f"HF_HUB_OFFLINE is set, so nothing can be fetched ('{name}' {state}); unset it to download"
        )
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(settings.models_dir / f".{key}.lock", timeout=0):
            return _download_locked(name, key, spec.repo, spec.plan, revision, settings, say, force)
    except Timeout:
        raise DownloadError(
            f"another `dallebot models download {name}` is running; wait for it to finish"
        ) from None


def _download_locked(
    name: str, key: str, repo: str, plan: Plan | None, revision: str | None,
    settings: HubSettings, say: Say, force: bool,
) -> Entry:  # fmt: skip
    _remove_leftovers(settings, key)
    # 1. what to fetch, pinned to one commit of each repo
    from huggingface_hub import HfApi

    api = HfApi(endpoint=settings.endpoint, token=settings.token)
    with errors.translated(settings, repo, revision):
        info = api.model_info(repo, revision=revision, files_metadata=True)
    listing = {s.rfilename: s for s in info.siblings or []}
    try:
        plan = plan or detect_layout(repo, set(listing))
    except LayoutError as exc:
        raise DownloadError(str(exc)) from None
    files = _remote_files(repo, info.sha, listing, plan.files, revision)
    vqgan: list[RemoteFile] = []
    if plan.vqgan_repo:
        with errors.translated(settings, plan.vqgan_repo, None):
            vq_info = api.model_info(plan.vqgan_repo, files_metadata=True)
        vq_listing = {s.rfilename: s for s in vq_info.siblings or []}
        vqgan = _remote_files(plan.vqgan_repo, vq_info.sha, vq_listing, plan.vqgan_files, None)
    commits = {f.repo: f.commit for f in files + vqgan}
    existing = read_entry(settings, name)
    recorded = existing.manifest if existing else {}
    same = recorded.get("commits") == commits and recorded.get("revision") == (revision or "main")
    if existing and same and not force and not existing.problems():
        say(f"{name} is up to date ({repo} at {info.sha}): {existing.model_dir}")
        return existing
    # 2. disk space, then fetch and verify each file
    cached = {f for f in files + vqgan if _is_cached(settings, f)}
    converted_estimate = sum(f.size for f in files + vqgan) if plan.layout is Layout.FLAX else 0
    _check_disk(settings, sum(f.size for f in files + vqgan if f not in cached), converted_estimate)
    total = human(sum(f.size for f in files + vqgan))
    say(f"{name}: {len(files) + len(vqgan)} files from {repo} at {(info.sha or '?')[:12]} ({total})")
    local = {f: fetch_verified(f, settings, say, step=f"[{i}/{len(files) + len(vqgan)}]")
             for i, f in enumerate(files + vqgan, 1)}  # fmt: skip
    # 3. build the model folder in staging and load it once
    staging = settings.models_dir / f"{STAGING_PREFIX}{key}-{uuid.uuid4().hex[:8]}"
    try:
        staging.mkdir()
        model = staging / MODEL_SUBDIR
        if plan.layout is Layout.FLAX:
            listed = _convert(staging, model, files, vqgan, local, say)
        else:
            listed = [_link(model / f.rfilename, local[f], f) for f in files]
        _load_once(model, say)
        # 4. manifest last, then the rename that makes the entry exist
        write_manifest(staging, _manifest(name, repo, revision, plan, commits, listed, files + vqgan))
        path = install(settings, name, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if plan.layout is Layout.FLAX:  # the converted copy is what is used: drop sources this run fetched
        fetched = [f for f in files + vqgan if f not in cached]
        for f in fetched:
            evict(local[f])
        if fetched:
            freed = human(sum(f.size for f in fetched))
            say(f"removed the Flax source files from the Hugging Face cache ({freed})")
    if existing is not None:  # another commit's files that no registered model uses any more
        _evict_unused(settings, existing)
    entry = read_entry(settings, name)
    assert entry is not None
    say(f"{name}: ready ({human(entry.size)}) in {path}")
    return entry


def _remote_files(
    repo: str, commit: str | None, listing: dict[str, Any], wanted: tuple[str, ...], revision: str | None
) -> list[RemoteFile]:
    if not commit:
        raise DownloadError(
            f"the Hub did not say which commit {repo} is at; is HF_ENDPOINT a Hugging Face Hub?"
        )
    missing = [n for n in wanted if n not in listing]
    if missing:
        raise DownloadError(
            f"{repo} at {revision or 'main'} has no {', '.join(missing)}: "
            "check the revision, or that the repo holds this model"
        )
    out = []
    for rfilename in wanted:
        s = listing[rfilename]
        sha256 = s.lfs.sha256 if s.lfs else None
        size = s.lfs.size if s.lfs else s.size
        if size is None:
            raise DownloadError(f"the Hub gave no size for {repo}/{rfilename}")
        out.append(RemoteFile(repo, rfilename, commit, int(size), sha256, s.blob_id))
    return out


def _blob_path(settings: HubSettings, f: RemoteFile) -> Path:
    folder = "models--" + f.repo.replace("/", "--")
    return settings.cache_dir / folder / "blobs" / str(f.sha256 or f.blob_id)


def _is_cached(settings: HubSettings, f: RemoteFile) -> bool:
    blob = _blob_path(settings, f)
    return blob.is_file() and blob.stat().st_size == f.size


def _check_disk(settings: HubSettings, download_bytes: int, convert_bytes: int) -> None:
    """Refuse to start when the cache's (and the models folder's) filesystem cannot hold the result."""
    cache_free, cache_dev = free_bytes(settings.cache_dir)
    models_free, models_dev = free_bytes(settings.models_dir)
    needs = [(settings.cache_dir, download_bytes, cache_free)]
    if cache_dev == models_dev:
        needs = [(settings.cache_dir, download_bytes + convert_bytes, cache_free)]
    elif convert_bytes:
        needs.append((settings.models_dir, convert_bytes, models_free))
    for where, need, free in needs:
        if need and free < need + DISK_MARGIN:
            raise DownloadError(
                f"not enough disk space: {human(need)} needed in {where}, {human(free)} free. Free some "
                "space, or point HF_HOME (or HF_HUB_CACHE / DALLEBOT_MODELS_DIR) at a larger disk"
            )


def fetch_verified(f: RemoteFile, settings: HubSettings, say: Say, step: str = "") -> Path:
    """Fetch one file into the cache (or find it there) and check its hash; retry once on a mismatch."""
    from huggingface_hub import hf_hub_download

    problem = ""
    for attempt in (1, 2):
        say(f"{step} {f.rfilename} ({human(f.size)})".strip())
        with errors.translated(settings, f.repo, f.commit, f.rfilename):
            pointer = Path(hf_hub_download(
                f.repo, f.rfilename, revision=f.commit, cache_dir=settings.cache_dir,
                endpoint=settings.endpoint, token=settings.token,
            ))  # fmt: skip
        with tqdm(total=f.size, desc="verifying sha256", unit="B", unit_scale=True, disable=None,
                  leave=False) as bar:  # fmt: skip
            problem = mismatch(pointer, f, bar.update) or ""
        if not problem:
            return pointer
        evict(pointer)
        again = "; fetching it again" if attempt == 1 else ""
        say(f"{f.label}: corrupt ({problem}): deleted from the cache{again}")
    raise DownloadError(
        f"{f.label} arrived corrupt twice ({problem}); the bad copy was deleted from the cache. "
        "Something between you and the Hub (proxy, mirror at HF_ENDPOINT) may be damaging it: try again later"
    )


def _link(dest: Path, pointer: Path, f: RemoteFile) -> dict[str, Any]:
    """Link a verified cache blob into the model folder; its manifest record."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    blob = blob_of(pointer)
    try:
        os.symlink(blob, dest)
    except OSError:  # no symlinks here (some Windows setups): a hard link shares the data just as well
        os.link(blob, dest)
    return {
        "path": f"{MODEL_SUBDIR}/{f.rfilename}", "size": f.size, "repo": f.repo,
        "rfilename": f.rfilename, "commit": f.commit, "sha256": f.sha256, "blob_id": f.blob_id,
        "blob": str(blob), "pointer": str(pointer),
    }  # fmt: skip


def _convert(
    staging: Path, model: Path, files: list[RemoteFile], vqgan: list[RemoteFile],
    local: dict[RemoteFile, Path], say: Say,
) -> list[dict[str, Any]]:  # fmt: skip
    """Convert a Flax DALL·E-Bart + VQGAN pair into the project's format in `model`."""
    try:
        from generation.flax_convert import ConversionError, convert_flax_checkpoint
    except ImportError as exc:
        raise DownloadError(f"this installation cannot convert Flax checkpoints ({exc})") from exc
    sources = {"bart": files, "vqgan": vqgan}
    for part, remotes in sources.items():  # each source in a folder of its own, exactly its files
        for f in remotes:
            _link(staging / f"source-{part}" / f.rfilename, local[f], f)
    say("converting the Flax checkpoint into safetensors (once)…")
    try:
        convert_flax_checkpoint(staging / "source-bart", staging / "source-vqgan", model)
    except ConversionError as exc:
        raise DownloadError(f"cannot convert {files[0].repo}: {exc}") from exc
    except OSError as exc:
        raise errors.as_download_error(exc, model) from exc
    for part in sources:
        shutil.rmtree(staging / f"source-{part}")
    return [
        {"path": p.relative_to(staging).as_posix(), "size": p.stat().st_size}
        for p in sorted(model.rglob("*")) if p.is_file()
    ]  # fmt: skip


def _load_once(model: Path, say: Say) -> None:
    from generation.loading import ModelLoadError, load_components

    say("loading the model once to check it…")
    try:
        load_components(model)
    except ModelLoadError as exc:
        raise DownloadError(f"the downloaded files do not load: {exc}") from exc


def _manifest(
    name: str, repo: str, revision: str | None, plan: Plan, commits: dict[str, str],
    listed: list[dict[str, Any]], remotes: list[RemoteFile],
) -> dict[str, Any]:  # fmt: skip
    return {
        "name": name, "source": repo, "revision": revision or "main", "commit": commits[repo],
        "commits": commits, "layout": plan.layout.value, "files": listed,
        "sources": [{"repo": f.repo, "rfilename": f.rfilename, "commit": f.commit, "size": f.size,
                     "sha256": f.sha256, "blob_id": f.blob_id} for f in remotes],
        "downloaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }  # fmt: skip


def _evict_unused(settings: HubSettings, replaced: Entry) -> None:
    in_use = {f.get("blob") for e in entries(settings) for f in e.manifest.get("files", [])}
    for f in replaced.manifest.get("files", []):
        if f.get("blob") and f.get("pointer") and f["blob"] not in in_use:
            evict(Path(f["pointer"]), Path(f["blob"]))


def _remove_leftovers(settings: HubSettings, key: str) -> None:
    """Delete staging / replaced folders of this name left by a run that was killed."""
    pattern = re.compile(rf"^\.(staging|old)-{re.escape(key)}-[0-9a-f]{{8}}$")
    for path in settings.models_dir.iterdir():
        if pattern.match(path.name):
            log.info("removing %s, left by an interrupted download", path)
            shutil.rmtree(path, ignore_errors=True)
