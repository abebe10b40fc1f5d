"""The package as `pip install .` builds it, installed into a fresh virtualenv outside the
source tree: `news-ingest migrate` and `serve --seed` find what the wheel carries.

Fast and still honest: the wheel is built for real (setuptools, build isolation) and installed
with `--no-deps` into a new venv that has no pip and no site packages of its own. Its
dependencies are the ones already installed for this suite, appended to its sys.path by one
.pth line. A path in a .pth is added as it is, not as a site directory, so the .pth files
there (among them this checkout's editable install) are not run: `app` can only come from the
wheel, and the test checks that it does. Installing the dependencies afresh would add a minute
of pip and test pip; the dependency floors have a CI step of their own (.ci/run).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import httpx
import pytest

from app.pipeline.poll import parse_opml
from tests.processes import clean_env, free_port, stop, wait_ready

ROOT = Path(__file__).resolve().parents[1]
LEFT_OUT = shutil.ignore_patterns(".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", "*.db",
                                  ".*_cache", ".hypothesis", "bench", "tests")


def _run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env)
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding only the wheel; returns its bin/ folder."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=LEFT_OUT)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", base / "dist", source)
    [wheel] = (base / "dist").glob("news_ingest-*.whl")
    venv = base / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "--quiet", wheel)
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    ours = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (site / "_suite_dependencies.pth").write_text("".join(f"{path}\n" for path in ours))
    return venv / "bin"


def test_the_wheel_carries_migrations_and_seeds(installed: Path, tmp_path: Path) -> None:
    where = _run(installed / "python", "-c",
                 "import app.resources as r; print(r.__file__); print(r.migrations_dir()); print(r.seed_opml())",
                 cwd=tmp_path, env=clean_env()).stdout.split()
    assert all(Path(p).is_relative_to(installed.parent) for p in where), where
    assert not any(Path(p).is_relative_to(ROOT) for p in where), where


def test_migrate_and_serve_seed_from_anywhere(installed: Path, tmp_path: Path) -> None:
    env = clean_env(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'installed.db'}")
    migrated = _run(installed / "news-ingest", "migrate", cwd=tmp_path, env=env)
    assert "newest schema" in migrated.stderr
    key = _run(installed / "news-ingest", "keys", "create", "--scope", "read", cwd=tmp_path, env=env).stdout.strip()

    # The port as a container sets it (the image's NEWS_INGEST_PORT), for the server and for
    # `news-ingest healthcheck`, the image's HEALTHCHECK.
    port = free_port()
    env["NEWS_INGEST_PORT"] = str(port)
    healthcheck: list[str | Path] = [installed / "news-ingest", "healthcheck"]
    server = subprocess.Popen([str(installed / "news-ingest"), "serve", "--seed"], cwd=tmp_path,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_ready(f"http://127.0.0.1:{port}", server)
        feeds = httpx.get(f"http://127.0.0.1:{port}/v1/feeds", params={"limit": 200},
                          headers={"Authorization": f"Bearer {key}"}).json()["items"]
        _run(*healthcheck, cwd=tmp_path, env=env)
    finally:
        output = stop(server)
    seeded = parse_opml((ROOT / "seeds" / "news-feeds.opml").read_bytes())
    assert {f["url"] for f in feeds} == {o.url for o in seeded}, output
    assert f"seeded {len(seeded)} feeds" in output
    down = subprocess.run([str(a) for a in healthcheck], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert down.returncode == 1 and f"127.0.0.1:{port}/readyz" in down.stderr
