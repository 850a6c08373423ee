"""weights.fetch against a local HTTP server on 127.0.0.1 that honours Range and can cut a transfer short."""
import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from uvc_bench.weights import (ChecksumMismatchError, DownloadError, HubFile, WeightFile, WeightsFetchError, fetch,
                               git_blob_sha1, main)
from uvc_data.errors import ConfigError, UnknownNameError

PAYLOAD = bytes(range(256)) * 40  # 10 KiB
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


class Server:
    def __init__(self):
        self.files = {"/w/a.bin": PAYLOAD}
        self.cut_after: int | None = None  # send only this many bytes of the next response, then close
        self.ranges: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                data = outer.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                rng = self.headers.get("Range")
                outer.ranges.append(rng)
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                if start >= len(data):
                    self.send_error(416)
                    return
                body = data[start:]
                self.send_response(206 if rng else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if outer.cut_after is not None:
                    self.wfile.write(body[: outer.cut_after])
                    outer.cut_after = None
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture()
def server():
    s = Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def manifest(url, sha=DIGEST, prefix=None):
    return {"w": [WeightFile("w/a.bin", f"{url}/w/a.bin", sha256=sha, sha256_prefix=prefix)]}


def test_fetch_verifies_and_places_the_file(server, tmp_path):
    out = fetch(["w"], tmp_path, manifest=manifest(server.url))
    assert (tmp_path / "w/a.bin").read_bytes() == PAYLOAD and out == {str(tmp_path / "w/a.bin"): DIGEST}
    fetch(["w"], tmp_path, manifest=manifest(server.url))  # already there and verified: no request
    assert len(server.ranges) == 1


def test_interrupted_download_resumes_with_range(server, tmp_path):
    server.cut_after = 3000
    with pytest.raises(WeightsFetchError, match="resume") as err:
        fetch(["w"], tmp_path, manifest=manifest(server.url))
    assert isinstance(err.value.failed["w/a.bin"], DownloadError)
    part = tmp_path / "w/a.bin.part"
    assert part.stat().st_size == 3000 and not (tmp_path / "w/a.bin").exists()
    fetch(["w"], tmp_path, manifest=manifest(server.url))
    assert server.ranges[-1] == "bytes=3000-"
    assert (tmp_path / "w/a.bin").read_bytes() == PAYLOAD and not part.exists()


def test_checksum_mismatch_is_rejected(server, tmp_path):
    with pytest.raises(WeightsFetchError, match="does not match") as err:
        fetch(["w"], tmp_path, manifest=manifest(server.url, sha="0" * 64))
    assert isinstance(err.value.failed["w/a.bin"], ChecksumMismatchError)
    assert not (tmp_path / "w/a.bin").exists() and not (tmp_path / "w/a.bin.part").exists()


def test_prefix_checksum_and_base_url_mirror(server, tmp_path):
    m = {"w": [WeightFile("w/a.bin", "https://unreachable.invalid/a.bin", sha256_prefix=DIGEST[:8])]}
    fetch(["w"], tmp_path, base_url=server.url, manifest=m)
    assert (tmp_path / "w/a.bin").read_bytes() == PAYLOAD


def test_unverified_entries_need_consent(server, tmp_path):
    m = manifest(server.url, sha=None)
    with pytest.raises(WeightsFetchError, match="allow_unverified") as err:
        fetch(["w"], tmp_path, manifest=m)
    assert isinstance(err.value.failed["w/a.bin"], ConfigError)
    assert fetch(["w"], tmp_path, manifest=m, allow_unverified=True)[str(tmp_path / "w/a.bin")] == DIGEST


def test_unknown_name_and_http_errors(server, tmp_path):
    with pytest.raises(UnknownNameError, match="Did you mean"):
        fetch(["ww"], tmp_path, manifest=manifest(server.url))
    m = {"w": [WeightFile("w/missing.bin", f"{server.url}/w/missing.bin", sha256=DIGEST)]}
    with pytest.raises(WeightsFetchError, match="404"):
        fetch(["w"], tmp_path, manifest=m)


def test_a_failed_file_does_not_stop_the_others(server, tmp_path, capsys):
    m = {"w": [WeightFile("w/missing.bin", f"{server.url}/w/missing.bin", sha256=DIGEST),
               WeightFile("w/a.bin", f"{server.url}/w/a.bin", sha256=DIGEST)]}
    with pytest.raises(WeightsFetchError) as err:
        fetch(["w"], tmp_path, manifest=m)
    assert set(err.value.failed) == {"w/missing.bin"} and err.value.done == {str(tmp_path / "w/a.bin"): DIGEST}
    assert (tmp_path / "w/a.bin").read_bytes() == PAYLOAD
    from uvc_bench import weights

    monkey = dict(weights.MANIFEST)
    try:
        weights.MANIFEST.clear()
        weights.MANIFEST.update(m)
        assert weights.fetch_and_report(["w"], str(tmp_path / "again"), None, False) == 1
    finally:
        weights.MANIFEST.clear()
        weights.MANIFEST.update(monkey)
    printed = capsys.readouterr()
    assert "FAILED w/missing.bin" in printed.err and "fetched 1 file(s), 1 failed" in printed.err


class FakeHub:
    """The Hub's resolve endpoint on 127.0.0.1: HEAD gives the commit and ETag (sha256 for LFS files, git blob sha1
    for regular ones), GET the bytes — what huggingface_hub reads."""

    def __init__(self, files):
        self.files = files  # (repo, revision, filename) → (bytes, lfs)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _find(self):
                parts = self.path.split("?")[0].strip("/").split("/")
                if len(parts) < 5 or parts[2] != "resolve":
                    return None
                return outer.files.get(("/".join(parts[:2]), parts[3], "/".join(parts[4:])))

            def _head(self, found):
                data, lfs, etag = found
                self.send_response(200)
                self.send_header("X-Repo-Commit", "c" * 40)
                self.send_header("ETag", f'"{etag}"')
                if lfs:
                    self.send_header("X-Linked-Etag", f'"{etag}"')
                    self.send_header("X-Linked-Size", str(len(data)))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()

            def do_HEAD(self):
                found = self._find()
                if found is None:
                    self.send_error(404)
                    return
                self._head(found)

            def do_GET(self):
                found = self._find()
                if found is None:
                    self.send_error(404)
                    return
                self._head(found)
                self.wfile.write(found[0])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def test_hub_files_are_checked_against_the_published_hash(tmp_path, monkeypatch):
    import huggingface_hub.constants as hc

    monkeypatch.setattr(hc, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    config = b'{"model_type": "vit"}'
    blob = tmp_path / "c.json"
    blob.write_bytes(config)
    rev = "a" * 40
    hub = FakeHub({("org/m", rev, "w.bin"): (PAYLOAD, True, DIGEST),
                   ("org/m", rev, "config.json"): (config, False, git_blob_sha1(blob)),
                   ("org/m", rev, "bad.bin"): (PAYLOAD[:-1], True, DIGEST)})
    try:
        m = {"m": [WeightFile("m/w.bin", "", hub=HubFile("org/m", "w.bin", rev)),
                   WeightFile("m/config.json", "", hub=HubFile("org/m", "config.json", rev)),
                   WeightFile("m/bad.bin", "", hub=HubFile("org/m", "bad.bin", rev)),
                   WeightFile("m/none.bin", "", hub=HubFile("org/m", "none.bin", rev))]}
        with pytest.raises(WeightsFetchError) as err:
            fetch(["m"], tmp_path / "w", manifest=m, hub_endpoint=hub.url)
        assert (tmp_path / "w/m/w.bin").read_bytes() == PAYLOAD  # sha256 = the LFS ETag
        assert (tmp_path / "w/m/config.json").read_bytes() == config  # git blob sha1 = the regular file's ETag
        assert set(err.value.failed) == {"m/bad.bin", "m/none.bin"}
        assert isinstance(err.value.failed["m/bad.bin"], ChecksumMismatchError)
        assert "404" in str(err.value.failed["m/none.bin"])
        assert not (tmp_path / "w/m/bad.bin").exists()
        assert not [p for p in (tmp_path / "w/m").iterdir() if p.name.startswith(".fetch_")]
    finally:
        hub.httpd.shutdown()
        hub.httpd.server_close()


def test_cli_list(capsys):
    assert main(["list"]) == 0
    assert "sa_0_4_vit_l_14_linear.pth" in capsys.readouterr().out


def test_manifest_follows_the_weights_layout():
    from uvc_bench.metrics.layout import ENTRIES
    from uvc_bench.weights import MANIFEST

    assert set(MANIFEST) == set(ENTRIES)
    for key, entry in ENTRIES.items():
        dests = [f.dest for f in MANIFEST[key]]
        assert (f"{entry.relpath}/config.json" in dests) if entry.is_dir else (dests == [entry.relpath])
