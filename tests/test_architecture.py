"""The import contracts in pyproject.toml ([tool.importlinter]) hold: layers import downwards
only, no cycles between a package's modules, SQLAlchemy only in app.storage. CI runs
`lint-imports` too (.ci/run); this test makes a plain `pytest` catch a broken contract."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    command = [str(lint)] if lint.exists() else [shutil.which("lint-imports") or "lint-imports"]
    done = subprocess.run([*command, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
