"""Where downloaded models live, and how a name becomes a directory the loader reads.

Layout (`models_dir`: $DALLEBOT_MODELS_DIR, else $HF_HOME/dallebot):

    <models_dir>/<key>/manifest.json   written last: without it the entry does not exist
    <models_dir>/<key>/model/          what the loader reads (links into the Hugging Face cache,
                                       or the converted safetensors)
    <models_dir>/.staging-<key>-*/     a download in progress (or one that was killed)

`<key>` is the name itself (`mini`) or `owner--name` for a Hub repo id. A manifest records every
file's size; resolving a name checks that each file is there with that size, so an entry whose
cache blob was deleted or truncated is reported, never loaded.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import uuid
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
MODEL_SUBDIR = "model"
STAGING_PREFIX = ".staging-"
MANIFEST_FORMAT = 1
KNOWN_NAMES = ("mini", "mega", "dalle-mini", "dalle-mega")
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")


class RegistryError(Exception):
    """A model name cannot be used; the message says what to run."""


class ModelNotDownloaded(RegistryError):
    """The name is valid but nothing complete is registered under it."""


def _truthy(value: str | None) -> bool:
    return (value or "").strip().upper() in {"1", "ON", "YES", "TRUE"}


@dataclass(frozen=True)
class HubSettings:
    """The Hugging Face environment as every HF tool reads it, plus where dallebot keeps models."""

    endpoint: str
    cache_dir: Path  # huggingface_hub's cache (HF_HUB_CACHE, else $HF_HOME/hub)
    models_dir: Path
    offline: bool
    token: str | None = field(default=None, repr=False)  # never logged

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HubSettings:
        """Read HF_ENDPOINT, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE, HF_TOKEN, DALLEBOT_MODELS_DIR."""
        env = os.environ if env is None else env
        xdg = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        home = Path(
            os.path.expanduser(os.path.expandvars(env.get("HF_HOME") or os.path.join(xdg, "huggingface")))
        )
        cache = env.get("HF_HUB_CACHE") or env.get("HUGGINGFACE_HUB_CACHE")
        models = env.get("DALLEBOT_MODELS_DIR")
        return cls(
            endpoint=(env.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/"),
            cache_dir=Path(os.path.expanduser(cache)) if cache else home / "hub",
            models_dir=Path(os.path.expanduser(models)) if models else home / "dallebot",
            offline=_truthy(env.get("HF_HUB_OFFLINE")) or _truthy(env.get("TRANSFORMERS_OFFLINE")),
            token=env.get("HF_TOKEN") or None,
        )


def is_model_name(text: str) -> bool:
    """A catalog name (`mini` …) or a Hub repo id (`owner/name`), as opposed to a filesystem path."""
    return text in KNOWN_NAMES or bool(REPO_ID.match(text))


def key_for(name: str) -> str:
    """The registry folder of a name: the name, or `owner--name` for a repo id."""
    if not is_model_name(name):
        raise RegistryError(
            f"'{name}' is not a model name: use {', '.join(KNOWN_NAMES)} or a Hub repo id owner/name"
        )
    return name.replace("/", "--")


@dataclass(frozen=True)
class Entry:
    """One registered model, as its manifest describes it."""

    name: str
    path: Path  # <models_dir>/<key>
    manifest: dict[str, Any]

    @property
    def model_dir(self) -> Path:
        return self.path / MODEL_SUBDIR

    @property
    def size(self) -> int:
        return sum(int(f["size"]) for f in self.manifest.get("files", []))

    def problems(self) -> list[str]:
        """Files missing or of the wrong size (empty when the entry is whole)."""
        found = []
        for item in self.manifest.get("files", []):
            file = self.path / item["path"]
            try:
                size = file.stat().st_size  # follows the link into the cache
            except OSError:
                found.append(f"{item['path']} is missing")
                continue
            if size != int(item["size"]):
                found.append(f"{item['path']} has {size} bytes, expected {item['size']}")
        return found


def read_entry(settings: HubSettings, name: str) -> Entry | None:
    """The registered entry for `name`, or None when there is no complete one."""
    path = settings.models_dir / key_for(name)
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise RegistryError(
            f"{path / MANIFEST} cannot be read ({exc}): run `dallebot models download {name}` again"
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise RegistryError(
            f"{path / MANIFEST}: unknown manifest format; run `dallebot models download {name}`"
        )
    return Entry(name=str(manifest.get("name", name)), path=path, manifest=manifest)


def entries(settings: HubSettings) -> Iterator[Entry]:
    """Every complete registered model, sorted by name."""
    if not settings.models_dir.is_dir():
        return
    for path in sorted(settings.models_dir.iterdir()):
        if path.name.startswith(".") or not (path / MANIFEST).is_file():
            continue
        name = path.name.replace("--", "/", 1) if path.name not in KNOWN_NAMES else path.name
        entry = read_entry(settings, name)
        if entry is not None:
            yield entry


def leftovers(settings: HubSettings) -> list[Path]:
    """Staging folders of downloads that did not finish (killed, or running now)."""
    if not settings.models_dir.is_dir():
        return []
    return sorted(p for p in settings.models_dir.iterdir() if p.name.startswith(STAGING_PREFIX))


def resolve_model(name: str, settings: HubSettings | None = None) -> Path:
    """The directory to load for a downloaded model name; reads local files only (works offline)."""
    settings = settings or HubSettings.from_env()
    entry = read_entry(settings, name)
    if entry is None:
        raise ModelNotDownloaded(
            f"model '{name}' is not downloaded (looked in {settings.models_dir}): "
            f"run `dallebot models download {name}` first"
        )
    problems = entry.problems()
    if problems:
        raise RegistryError(
            f"model '{name}' is damaged ({'; '.join(problems[:3])}): "
            f"run `dallebot models download {name}` again"
        )
    return entry.model_dir


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """Write manifest.json atomically (a temporary file renamed over it)."""
    manifest = {"format": MANIFEST_FORMAT, **manifest}
    tmp = directory / f".{MANIFEST}.{uuid.uuid4().hex[:8]}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, directory / MANIFEST)


def install(settings: HubSettings, name: str, staging: Path) -> Path:
    """Move a finished staging folder (with its manifest) into place, replacing an older entry."""
    final = settings.models_dir / key_for(name)
    old = None
    if final.exists():
        old = settings.models_dir / f".old-{final.name}-{uuid.uuid4().hex[:8]}"
        os.replace(final, old)
    os.replace(staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final


def discard(settings: HubSettings, name: str) -> Entry | None:
    """Unregister `name` (its folder renamed away first, then deleted); the entry it had, if any."""
    entry = read_entry(settings, name)
    path = settings.models_dir / key_for(name)
    if path.exists():
        trash = settings.models_dir / f".old-{path.name}-{uuid.uuid4().hex[:8]}"
        os.replace(path, trash)
        shutil.rmtree(trash, ignore_errors=True)
    return entry


def locate(choice: str, settings: HubSettings | None = None) -> Path:
    """A model choice -> the directory to load: a catalog name always means the downloaded model;
    otherwise an existing directory, else a downloaded Hub repo id."""
    if choice not in KNOWN_NAMES:
        directory = Path(choice).expanduser()
        if directory.is_dir():
            return directory
        if not is_model_name(choice):
            raise RegistryError(f"model directory not found: {directory}")
    try:
        return resolve_model(choice, settings)
    except ModelNotDownloaded as exc:
        if choice in KNOWN_NAMES:
            raise
        raise ModelNotDownloaded(f"no model directory {choice}, and {exc}") from None


def choice_hint(choice: str | Path, embedded: Collection[str]) -> str:
    """What a model setting may be, and the name a mistyped one likely meant ("" for a path)."""
    if not isinstance(choice, str) or "/" in choice or os.sep in choice:
        return ""
    close = difflib.get_close_matches(choice.lower(), [*embedded, *KNOWN_NAMES], n=1, cutoff=0.6)
    guess = f"Did you mean '{close[0]}'? " if close else ""
    return (
        f". {guess}A model is an embedded one ({', '.join(embedded)}), a downloadable one "
        f"({', '.join(KNOWN_NAMES)}: `dallebot models download NAME` first), a Hub repo id (owner/name) "
        "or a model directory"
    )


def remove(settings: HubSettings, name: str) -> int:
    """Unregister `name` and delete its files from the Hugging Face cache (unless another
    registered model uses them); the bytes freed."""
    from generation.hub.verify import evict

    entry = read_entry(settings, name)
    staged = [p for p in leftovers(settings) if p.name.startswith(f"{STAGING_PREFIX}{key_for(name)}-")]
    if entry is None and not staged:
        raise ModelNotDownloaded(
            f"model '{name}' is not downloaded: nothing to remove (see `dallebot models list`)"
        )
    freed = 0
    if entry is not None:
        kept = {f.get("blob") for other in entries(settings) if other.path != entry.path
                for f in other.manifest.get("files", [])}  # fmt: skip
        freed = sum(
            _size(entry.path / f["path"]) for f in entry.manifest.get("files", []) if not f.get("blob")
        )
        for f in entry.manifest.get("files", []):
            if f.get("blob") and f["blob"] not in kept and f.get("pointer"):
                freed += _size(Path(f["blob"]))
                evict(Path(f["pointer"]), Path(f["blob"]))
        discard(settings, name)
    for path in staged:
        freed += sum(_size(p) for p in path.rglob("*") if p.is_file() and not p.is_symlink())
        shutil.rmtree(path, ignore_errors=True)
    return freed


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
