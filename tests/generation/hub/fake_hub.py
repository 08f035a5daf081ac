"""A local stand-in for the Hugging Face Hub, enough of it for the real huggingface_hub client.

Two threaded HTTP servers on 127.0.0.1 (port 0): the Hub (`/api/models/…` with `?blobs=true`
file metadata, `HEAD`/`GET …/resolve/<rev>/<file>`) and a separate LFS origin the Hub redirects
large files to (`302`, fetched without the Authorization header, `Range` honoured). Small files
are served directly with `ETag` = git blob SHA-1; errors carry `X-Error-Code` like the real Hub's.

Faults, each armed per file: the connection dropped after N bytes (once), the right number of
wrong bytes (n times), a file listed by the API but missing from `resolve`.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

TOKEN = "hf_fake_test_token"
LFS_SUFFIXES = (".pt", ".safetensors", ".msgpack", ".bin")


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    files: dict[str, bytes]
    commit: str
    refs: dict[str, str] = field(default_factory=dict)  # branch / tag -> commit
    digests: dict[str, str] = field(default_factory=dict)  # file -> sha256
    blob_ids: dict[str, str] = field(default_factory=dict)  # file -> git blob sha1
    gated: bool = False
    private: bool = False


@dataclass
class Request:
    server: str  # "hub" or "lfs"
    method: str
    path: str
    range: str | None
    authorized: bool


class FakeHub:
    """Start with `start()`, point HF_ENDPOINT at `url`, stop with `stop()`."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.requests: list[Request] = []
        self.drop_after: dict[str, int] = {}  # sha256 -> bytes sent before the connection drops (once)
        self.corrupt: dict[str, int] = {}  # sha256 -> how many more times to serve damaged bytes
        self.hidden: set[tuple[str, str]] = set()  # (repo, file): listed, but resolve says 404
        self._blobs: dict[str, bytes] = {}  # sha256 -> content, for the LFS origin
        self._lock = threading.Lock()
        self._servers: list[ThreadingHTTPServer] = []

    # -- content ---------------------------------------------------------------------------

    def add_repo(self, repo_id: str, files: dict[str, bytes], *, gated: bool = False, private: bool = False,
                 tags: tuple[str, ...] = ()) -> str:  # fmt: skip
        """Publish `files` as the repo's `main` (and `tags`); the commit hash."""
        digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
        commit = hashlib.sha1(repr((repo_id, sorted(digests.items()))).encode()).hexdigest()
        refs = {"main": commit, **dict.fromkeys(tags, commit)}
        blob_ids = {name: git_blob_sha1(data) for name, data in files.items()}
        repo = Repo(dict(files), commit, refs, digests, blob_ids, gated, private)
        self.repos[repo_id] = repo
        self._blobs.update({digests[name]: data for name, data in files.items()})
        return commit

    def sha256(self, repo_id: str, name: str) -> str:
        return self.repos[repo_id].digests[name]

    def drop(self, repo_id: str, name: str, after: int) -> None:
        """The next download of this file breaks off after `after` bytes."""
        self.drop_after[self.sha256(repo_id, name)] = after

    def damage(self, repo_id: str, name: str, times: int = 1) -> None:
        """The next `times` downloads of this file carry the right number of wrong bytes."""
        self.corrupt[self.sha256(repo_id, name)] = times

    def file_requests(self, name: str) -> list[Request]:
        """GET requests that fetched `name` (direct, or from the LFS origin by its hash)."""
        hashes = {r.digests[name] for r in self.repos.values() if name in r.files}
        return [q for q in self.requests if q.method == "GET" and (
            q.path.endswith("/" + name) or any(q.path.endswith("/" + h) for h in hashes))]  # fmt: skip

    # -- servers -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._servers[0].server_address[1]}"

    @property
    def lfs_url(self) -> str:
        return f"http://127.0.0.1:{self._servers[1].server_address[1]}"

    def start(self) -> FakeHub:
        for role in ("hub", "lfs"):
            handler = type(f"{role}Handler", (_Handler,), {"hub": self, "role": role})
            server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self._servers.append(server)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    # -- answers -------------------------------------------------------------------------------

    def find_commit(self, repo: Repo, revision: str) -> str | None:
        if revision in repo.refs:
            return repo.refs[revision]
        return revision if revision == repo.commit else None

    def blob(self, sha256: str) -> bytes | None:
        return self._blobs.get(sha256)


API = re.compile(r"^/api/models/([^/]+/[^/]+)(?:/revision/([^/]+))?$")
RESOLVE = re.compile(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    role: str

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, *, body: bool) -> None:
        path = urlsplit(self.path).path
        authorized = self.headers.get("Authorization") == f"Bearer {TOKEN}"
        with self.hub._lock:
            self.hub.requests.append(
                Request(self.role, self.command, path, self.headers.get("Range"), authorized)
            )
        if self.role == "lfs":
            self._lfs(path, body)
            return
        if m := API.match(path):
            self._api(m.group(1), unquote(m.group(2) or "main"), authorized)
        elif m := RESOLVE.match(path):
            self._resolve(m.group(1), unquote(m.group(2)), unquote(m.group(3)), authorized, body)
        else:
            self._error(404, "RepoNotFound", "not a path this fake Hub serves")

    def _error(self, status: int, code: str, message: str, commit: str | None = None) -> None:
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        if commit:
            self.send_header("X-Repo-Commit", commit)
        self.send_header("Content-Type", "application/json")
        data = json.dumps({"error": message}).encode()
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _repo(self, repo_id: str, revision: str, authorized: bool) -> tuple[Repo, str] | None:
        repo = self.hub.repos.get(repo_id)
        if repo is None or (repo.private and not authorized):
            self._error(401, "RepoNotFound", "Repository not found")
            return None
        commit = self.hub.find_commit(repo, revision)
        if commit is None:
            self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            return None
        return repo, commit

    def _api(self, repo_id: str, revision: str, authorized: bool) -> None:
        found = self._repo(repo_id, revision, authorized)
        if found is None:
            return
        repo, commit = found
        blobs = "blobs=true" in (urlsplit(self.path).query or "")
        siblings = []
        for name, data in sorted(repo.files.items()):
            entry: dict[str, object] = {"rfilename": name}
            if blobs:
                entry.update(size=len(data), blobId=repo.blob_ids[name])
                if name.endswith(LFS_SUFFIXES):
                    entry["lfs"] = {
                        "size": len(data),
                        "sha256": repo.digests[name],
                        "pointerSize": 134,
                    }
            siblings.append(entry)
        info = {"id": repo_id, "modelId": repo_id, "sha": commit, "private": repo.private,
                "gated": "manual" if repo.gated else False, "siblings": siblings}  # fmt: skip
        data = json.dumps(info).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _resolve(self, repo_id: str, revision: str, name: str, authorized: bool, body: bool) -> None:
        found = self._repo(repo_id, revision, authorized)
        if found is None:
            return
        repo, commit = found
        if repo.gated and not authorized:
            self._error(401, "GatedRepo", f"Access to model {repo_id} is restricted. Please log in.")
            return
        if name not in repo.files or (repo_id, name) in self.hub.hidden:
            self._error(404, "EntryNotFound", f"{name} does not exist", commit)
            return
        data = repo.files[name]
        self.send_response(302 if name.endswith(LFS_SUFFIXES) else 200)
        self.send_header("X-Repo-Commit", commit)
        if name.endswith(LFS_SUFFIXES):
            sha = repo.digests[name]
            self.send_header("ETag", f'"{repo.blob_ids[name]}"')
            self.send_header("X-Linked-Etag", f'"{sha}"')
            self.send_header("X-Linked-Size", str(len(data)))
            self.send_header("Location", f"{self.hub.lfs_url}/lfs/{sha}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_header("ETag", f'"{repo.blob_ids[name]}"')
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _lfs(self, path: str, body: bool) -> None:
        sha = path.rsplit("/", 1)[-1]
        data = self.hub.blob(sha)
        if data is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with self.hub._lock:
            if self.hub.corrupt.get(sha):
                self.hub.corrupt[sha] -= 1
                middle = len(data) // 2
                data = (
                    data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 64]) + data[middle + 64 :]
                )
            drop = self.hub.drop_after.pop(sha, None)
        start = 0
        if m := re.match(r"bytes=(\d+)-$", self.headers.get("Range") or ""):
            start = int(m.group(1))
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        if not body:
            return
        part = data[start:]
        if drop is not None:
            self.wfile.write(part[:drop])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(part)
