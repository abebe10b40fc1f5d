"""compose.yaml, checked without a Docker engine: valid by the Compose specification's JSON
schema (the copy check-jsonschema ships), every `depends_on` condition can be met, the roles
are the ones the README's "Scaling out" section describes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "compose.yaml"
CHECK = [str(Path(sys.executable).with_name("check-jsonschema")), "--builtin-schema", "vendor.compose-spec"]


def services() -> dict[str, dict[str, Any]]:
    return dict(YAML(typ="safe").load(COMPOSE.read_text())["services"])


def role(service: dict[str, Any]) -> str:
    command = service.get("command") or []
    return str(command[1]) if command[:1] == ["news-ingest"] else str(service.get("image", "?")).split(":")[0]


def test_the_compose_specification_schema_accepts_it() -> None:
    done = subprocess.run([*CHECK, str(COMPOSE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_refuses_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("condition: service_healthy", "condition: service_happy", 1))
    done = subprocess.run([*CHECK, str(broken)], capture_output=True, text=True)
    assert done.returncode == 1 and "service_happy" in done.stdout


def test_every_dependency_can_be_met() -> None:
    found = services()
    for name, service in found.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in found, f"{name} depends on {target}, which is no service"
            other = found[target]
            if rule["condition"] == "service_healthy":
                check = other.get("healthcheck", {})
                assert check.get("test") and not check.get("disable"), f"{target} has no health check"
            if rule["condition"] == "service_completed_successfully":
                assert other.get("restart") == "no", f"{target} must run once, not restart"


def test_postgresql_a_one_shot_migrate_two_apis_and_two_workers() -> None:
    found = services()
    roles = sorted(role(s) for s in found.values())
    assert roles == ["api", "api", "migrate", "postgres", "worker", "worker"]
    for name, service in found.items():
        if role(service) in ("api", "worker"):
            assert service["depends_on"] == {"db": {"condition": "service_healthy"},
                                             "migrate": {"condition": "service_completed_successfully"}}, name
            assert service["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://"), name
        if role(service) == "api":
            assert service["healthcheck"]["test"] == ["CMD", "news-ingest", "healthcheck"], name
    ports = [s["ports"] for s in found.values() if role(s) == "api"]
    assert sorted(ports) == [["8001:8000"], ["8002:8000"]]


def test_the_readme_says_the_same() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Scaling out\n", 1)[1].split("\n## ", 1)[0]
    found = services()
    for name, service in found.items():
        assert f"`{name}`" in section, f"the README's Scaling out section does not mention {name}"
        if role(service) in ("api", "worker", "migrate"):
            assert f"news-ingest {role(service)}" in section
    said = set(re.findall(r"news-ingest (api|worker|migrate)\b", section))
    assert said == {"api", "worker", "migrate"}
    assert "check-jsonschema --builtin-schema vendor.compose-spec compose.yaml" in section

