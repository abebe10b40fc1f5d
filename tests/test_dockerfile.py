"""The Dockerfile and its build context, checked without a Docker engine: parsed by BuildKit's
own parser (the `dockerfile` package), dependencies installed in a layer before the sources,
every file the build copies inside the context that .dockerignore leaves, the health check
asking the configured port."""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import dockerfile

ROOT = Path(__file__).resolve().parents[1]


def instructions() -> list[dockerfile.Command]:
    return list(dockerfile.parse_file(str(ROOT / "Dockerfile")))


def build_stage() -> list[dockerfile.Command]:
    commands = instructions()
    starts = [i for i, c in enumerate(commands) if c.cmd == "FROM"]
    return commands[starts[0]:starts[1]]


def context_sources() -> list[str]:
    return [src for c in instructions() if c.cmd == "COPY" and not any(f.startswith("--from") for f in c.flags)
            for src in c.value[:-1]]


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern that matches the path or one of its parent folders wins."""
    parts = path.split("/")
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern.lstrip("!").strip("/")
        for n in range(1, len(parts) + 1):
            prefix = "/".join(parts[:n])
            if fnmatch.fnmatchcase(prefix, glob) and ("/" in glob or "/" not in prefix) or (
                    glob.startswith("**/") and fnmatch.fnmatchcase(parts[n - 1], glob[3:])):
                excluded = not negate
                break
    return excluded


def test_dependencies_are_installed_before_the_sources_are_copied() -> None:
    stage = build_stage()
    copies = [(i, c.value[:-1]) for i, c in enumerate(stage) if c.cmd == "COPY"]
    [install_deps] = [i for i, c in enumerate(stage) if c.cmd == "RUN" and "-r requirements.txt" in c.value[0]]
    before = [src for i, sources in copies if i < install_deps for src in sources]
    assert before == ["pyproject.toml"]  # a code change leaves the dependency layer cached
    assert any("app" in sources for i, sources in copies if i > install_deps)


def test_the_requirements_step_lists_the_projects_dependencies(tmp_path: Path) -> None:
    [run] = [c.value[0] for c in build_stage() if c.cmd == "RUN" and "requirements.txt" in c.value[0]]
    step = run.split("&&")[0]  # the listing, without the pip install that follows
    (tmp_path / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    subprocess.run(["sh", "-c", step], cwd=tmp_path, env=env, check=True)
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert (tmp_path / "requirements.txt").read_text().splitlines() == expected


def test_the_context_holds_what_the_build_copies_and_little_else() -> None:
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    sent = {path for path in tracked if not dockerignored(path, patterns)}
    for source in context_sources():
        assert any(p == source or p.startswith(source.rstrip("/") + "/") for p in sent), f"{source} left out"
    assert not any(p.startswith(("tests/", "bench/", ".ci/", ".venv")) or p.endswith(".db") for p in sent)
    assert "seeds/news-feeds.opml" in sent and "migrations/env.py" in sent
    assert all(dockerignored(p, patterns) for p in (".venv/bin/python", "app/__pycache__/x.pyc", "news-ingest.db"))


def test_the_health_check_asks_the_configured_port() -> None:
    [check] = [c for c in instructions() if c.cmd == "HEALTHCHECK"]
    assert check.value == ("CMD", "news-ingest", "healthcheck")  # reads NEWS_INGEST_PORT like `serve`
    [cmd] = [c for c in instructions() if c.cmd == "CMD"]
    assert "--port" not in cmd.value and "8000" not in " ".join(cmd.value)
