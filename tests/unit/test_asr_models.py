"""The Vosk model installer against a real HTTP server on loopback (no internet needed)."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from media.asr import cli
from media.asr.errors import ModelInstallError, ModelNotFoundError
from media.asr.models import ProgressBar, install, list_installed, resolve

NAME = "vosk-model-tiny-xx-0.1"


def fake_model_zip(name: str = NAME, *, model: bool = True, evil: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        if model:
            zf.writestr(f"{name}/am/final.mdl", bytes(range(256)) * 2000)  # 512 KB: several read blocks
            zf.writestr(f"{name}/conf/model.conf", "--beam=10.0\n")
        zf.writestr(f"{name}/README", "a fake model for tests\n")
        if evil:
            zf.writestr("../escape.txt", "gotcha")
    return buf.getvalue()


@dataclass
class Site:
    """What the loopback server serves and what it saw."""

    files: dict[str, bytes] = field(default_factory=dict)
    truncate_next: int = 0  # this many next responses stop halfway
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)
    url: str = ""


def handler_for(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            site.requests.append((self.path, self.headers.get("Range")))
            body = site.files.get(self.path)
            if body is None:
                self.send_error(404, "no such file")
                return
            start = 0
            rng = self.headers.get("Range")
            if rng and rng.startswith("bytes="):
                start = int(rng[6:].split("-")[0])
                if start >= len(body):
                    self.send_error(416, "range not satisfiable")
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            part = body[start:]
            self.send_header("Content-Length", str(len(part)))
            self.end_headers()
            if site.truncate_next:
                site.truncate_next -= 1
                self.wfile.write(part[: len(part) // 2])
                self.close_connection = True
                return
            self.wfile.write(part)

    return Handler


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(s))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="model-server")
    thread.start()
    s.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield s
    server.shutdown()
    server.server_close()
    thread.join(5)


def installed_files(data_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.is_file())


def test_install_verifies_unpacks_atomically_and_lists(site: Site, tmp_path: Path) -> None:
    archive = fake_model_zip()
    site.files["/m.zip"] = archive
    seen: list[tuple[int, int | None]] = []
    path = install(
        NAME,
        tmp_path,
        url=site.url + "/m.zip",
        sha256=hashlib.sha256(archive).hexdigest(),
        catalogue_url=None,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert path == (tmp_path / "models" / NAME).resolve()
    assert installed_files(tmp_path) == [
        f"models/{NAME}/README",
        f"models/{NAME}/am/final.mdl",
        f"models/{NAME}/conf/model.conf",
    ]
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [".downloads", NAME]  # no temp dir left
    assert seen[0] == (0, len(archive)) and seen[-1] == (len(archive), len(archive))
    assert [m.name for m in list_installed(tmp_path)] == [NAME]
    assert resolve(NAME, tmp_path) == path and resolve(path, None) == path
    # already installed: no second download
    assert install(NAME, tmp_path, url=site.url + "/m.zip", catalogue_url=None) == path
    assert len(site.requests) == 1


def test_interrupted_download_resumes_with_range(site: Site, tmp_path: Path) -> None:
    archive = fake_model_zip()
    site.files["/m.zip"] = archive
    site.truncate_next = 1
    install(NAME, tmp_path, url=site.url + "/m.zip", catalogue_url=None)
    assert site.requests == [("/m.zip", None), ("/m.zip", f"bytes={len(archive) // 2}-")]
    assert (tmp_path / "models" / NAME / "am" / "final.mdl").read_bytes() == bytes(range(256)) * 2000


def test_resume_across_calls_after_giving_up(site: Site, tmp_path: Path) -> None:
    archive = fake_model_zip()
    site.files["/m.zip"] = archive
    site.truncate_next = 1
    with pytest.raises(ModelInstallError, match="interrupted") as err:
        install(NAME, tmp_path, url=site.url + "/m.zip", catalogue_url=None, attempts=1)
    assert err.value.code == "asr_model_download_interrupted" and site.url in err.value.message
    part = tmp_path / "models" / ".downloads" / f"{NAME}.zip.part"
    assert part.stat().st_size == len(archive) // 2
    assert not (tmp_path / "models" / NAME).exists()
    install(NAME, tmp_path, url=site.url + "/m.zip", catalogue_url=None, attempts=1)
    assert site.requests[-1] == ("/m.zip", f"bytes={len(archive) // 2}-")
    assert not part.exists()


def test_checksum_mismatch_deletes_the_download(site: Site, tmp_path: Path) -> None:
    site.files["/m.zip"] = fake_model_zip()
    with pytest.raises(ModelInstallError, match="sha256 is") as err:
        install(NAME, tmp_path, url=site.url + "/m.zip", sha256="0" * 64, catalogue_url=None)
    assert err.value.code == "asr_model_checksum_mismatch" and "/m.zip" in err.value.message
    assert installed_files(tmp_path) == []


def test_size_and_md5_come_from_the_official_list(site: Site, tmp_path: Path) -> None:
    archive = fake_model_zip()
    site.files["/m.zip"] = archive
    listing = [{"name": NAME, "size": len(archive), "md5": hashlib.md5(archive).hexdigest(), "lang": "xx"}]
    site.files["/model-list.json"] = json.dumps(listing).encode()
    install(NAME, tmp_path, url=site.url + "/m.zip", catalogue_url=site.url + "/model-list.json")
    assert [p for p, _ in site.requests] == ["/model-list.json", "/m.zip"]

    other = tmp_path / "other"
    listing[0]["md5"] = "f" * 32
    site.files["/model-list.json"] = json.dumps(listing).encode()
    with pytest.raises(ModelInstallError, match="md5 is"):
        install(NAME, other, url=site.url + "/m.zip", catalogue_url=site.url + "/model-list.json")


def test_offline_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelInstallError) as err:
        install(NAME, tmp_path, url="http://127.0.0.1:9/m.zip", catalogue_url="http://127.0.0.1:9/list.json", timeout=5)
    assert err.value.code == "asr_model_download_failed"
    assert "cannot download http://127.0.0.1:9/m.zip" in err.value.message
    assert "refused" in err.value.message.lower()


def test_http_errors_and_bad_archives(site: Site, tmp_path: Path) -> None:
    with pytest.raises(ModelInstallError, match="HTTP 404"):
        install(NAME, tmp_path, url=site.url + "/missing.zip", catalogue_url=None)
    site.files["/notzip.zip"] = b"this is not a zip" * 100
    with pytest.raises(ModelInstallError, match="not a zip archive"):
        install(NAME, tmp_path, url=site.url + "/notzip.zip", catalogue_url=None)
    site.files["/empty.zip"] = fake_model_zip(model=False)
    with pytest.raises(ModelInstallError, match="holds no Vosk model"):
        install(NAME, tmp_path, url=site.url + "/empty.zip", catalogue_url=None)
    site.files["/evil.zip"] = fake_model_zip(evil=True)
    with pytest.raises(ModelInstallError, match="unsafe path"):
        install(NAME, tmp_path, url=site.url + "/evil.zip", catalogue_url=None)
    assert not (tmp_path / "models" / NAME).exists() and not (tmp_path / "escape.txt").exists()
    assert not (tmp_path / "models" / ".downloads" / f"{NAME}.zip.part").exists()


def test_unknown_names_and_paths(tmp_path: Path) -> None:
    with pytest.raises(ModelInstallError, match="unknown model 'nope'"):
        install("nope", tmp_path)
    with pytest.raises(ModelInstallError, match="bad model name"):
        install("../x", tmp_path, url="http://127.0.0.1:9/x.zip")
    with pytest.raises(ModelNotFoundError, match="install it with `models install vosk-model-small-ko-0.22`"):
        resolve("vosk-model-small-ko-0.22", tmp_path)
    with pytest.raises(ModelNotFoundError, match="not a Vosk model"):
        resolve(tmp_path, tmp_path)


def test_progress_bar_draws_one_line() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, width=10, min_interval=0)
    bar(0, 2_000_000)
    bar(1_000_000, 2_000_000)
    bar(2_000_000, 2_000_000)
    assert out.getvalue() == (
        "\r[----------]   0%  0.0/2.0 MB\r[#####-----]  50%  1.0/2.0 MB\r[##########] 100%  2.0/2.0 MB\n"
    )


def test_cli_list_install_path(site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site.files["/m.zip"] = fake_model_zip()
    data = ["--data-dir", str(tmp_path)]
    assert cli.main([*data, "install", NAME, "--url", site.url + "/m.zip", "--no-catalogue"]) == 0
    assert cli.main(["path", NAME, *data]) == 0  # the flag after the sub-command too (it was refused there)
    assert cli.main([*data, "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    where = str((tmp_path / "models" / NAME).resolve())
    assert out[0] == where and out[1] == where
    assert out[2] == f"installed in {tmp_path / 'models'}:" and out[3].startswith(f"  {NAME}")
    assert "vosk-model-small-ko-0.22" in "\n".join(out[4:])
    assert cli.main([*data, "path", "vosk-model-small-en-us-0.15"]) == 2
    assert "install it with" in capsys.readouterr().err
