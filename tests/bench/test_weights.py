"""weights.fetch against a local HTTP server on 127.0.0.1 that honours Range and can cut a transfer short."""
import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from uvc_bench.weights import ChecksumMismatchError, DownloadError, WeightFile, fetch, main
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
    with pytest.raises(DownloadError, match="resume"):
        fetch(["w"], tmp_path, manifest=manifest(server.url))
    part = tmp_path / "w/a.bin.part"
    assert part.stat().st_size == 3000 and not (tmp_path / "w/a.bin").exists()
    fetch(["w"], tmp_path, manifest=manifest(server.url))
    assert server.ranges[-1] == "bytes=3000-"
    assert (tmp_path / "w/a.bin").read_bytes() == PAYLOAD and not part.exists()


def test_checksum_mismatch_is_rejected(server, tmp_path):
    with pytest.raises(ChecksumMismatchError, match="does not match"):
        fetch(["w"], tmp_path, manifest=manifest(server.url, sha="0" * 64))
    assert not (tmp_path / "w/a.bin").exists() and not (tmp_path / "w/a.bin.part").exists()


def test_prefix_checksum_and_base_url_mirror(server, tmp_path):
    m = {"w": [WeightFile("w/a.bin", "https://unreachable.invalid/a.bin", sha256_prefix=DIGEST[:8])]}
    fetch(["w"], tmp_path, base_url=server.url, manifest=m)
    assert (tmp_path / "w/a.bin").read_bytes() == PAYLOAD


def test_unverified_entries_need_consent(server, tmp_path):
    m = manifest(server.url, sha=None)
    with pytest.raises(ConfigError, match="allow_unverified"):
        fetch(["w"], tmp_path, manifest=m)
    assert fetch(["w"], tmp_path, manifest=m, allow_unverified=True)[str(tmp_path / "w/a.bin")] == DIGEST


def test_unknown_name_and_http_errors(server, tmp_path):
    with pytest.raises(UnknownNameError, match="Did you mean"):
        fetch(["ww"], tmp_path, manifest=manifest(server.url))
    m = {"w": [WeightFile("w/missing.bin", f"{server.url}/w/missing.bin", sha256=DIGEST)]}
    with pytest.raises(DownloadError, match="404"):
        fetch(["w"], tmp_path, manifest=m)


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
