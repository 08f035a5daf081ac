"""What went wrong talking to the Hub, in words an operator can act on (no tracebacks).

huggingface_hub raises its own exception types (and its HTTP client's transport errors); each
becomes a DownloadError whose message names the repo, revision or file and says what to do.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generation.hub.registry import HubSettings


class DownloadError(Exception):
    """A download cannot go on; the message says why and what to do."""


def human(size: float) -> str:
    """Bytes as a short decimal figure (1.1 GB)."""
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def as_download_error(exc: OSError, where: Path) -> DownloadError:
    """An OSError while writing: disk full gets its own advice."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DownloadError(
            f"the disk is full (writing under {where}): free some space, or point HF_HOME at a larger "
            "disk, and run the command again; nothing half-written was registered"
        )
    return DownloadError(f"cannot write under {where}: {exc}")


def _token_hint(settings: HubSettings) -> str:
    from huggingface_hub import get_token

    if settings.token or get_token():
        return "the token in use (HF_TOKEN, or `hf auth login`) may lack access to it"
    return "no token is set: set HF_TOKEN to a token with access (or run `hf auth login`)"


@contextmanager
def translated(
    settings: HubSettings, repo: str, revision: str | None, filename: str | None = None
) -> Iterator[None]:
    """Turn huggingface_hub's and its HTTP client's exceptions into DownloadError."""
    from huggingface_hub import errors as hf

    where = f"{settings.endpoint}/{repo}"
    rev = revision or "main"
    try:
        yield
    except hf.GatedRepoError:
        raise DownloadError(
            f"{repo} is gated: accept its conditions at {where} with your account; {_token_hint(settings)}"
        ) from None
    except hf.RepositoryNotFoundError:
        raise DownloadError(
            f"no repo {repo} at {settings.endpoint}, or it is private and {_token_hint(settings)}. "
            "Check the name (catalog names: mini, mega, dalle-mini, dalle-mega)"
        ) from None
    except hf.RevisionNotFoundError:
        raise DownloadError(
            f"{repo} has no revision '{rev}': use a branch, tag or commit of that repo"
        ) from None
    except hf.RemoteEntryNotFoundError:
        raise DownloadError(f"{repo} at {rev} has no file {filename}") from None
    except (hf.OfflineModeIsEnabled, hf.LocalEntryNotFoundError):
        raise DownloadError(_unreachable(settings, "offline mode, or no answer")) from None
    except hf.HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "an error"
        raise DownloadError(
            f"the Hub at {settings.endpoint} answered {status} for {repo}"
            f"{'/' + filename if filename else ''}: try again later"
        ) from None
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise as_download_error(exc, settings.cache_dir) from None
        if "Consistency check failed" in str(exc):  # the body ended short even after the client's retries
            raise DownloadError(
                f"the download of {repo}/{filename} kept breaking off: run the command again"
            ) from None
        raise
    except Exception as exc:
        if type(exc).__module__.split(".")[0].startswith("httpx"):  # huggingface_hub's HTTP client
            raise DownloadError(_unreachable(settings, f"{type(exc).__name__}: {exc}")) from None
        raise


def _unreachable(settings: HubSettings, detail: str) -> str:
    return (
        f"cannot reach the Hub at {settings.endpoint} ({detail}): check the network, "
        "HF_ENDPOINT and any proxy settings, and run the command again"
    )
