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


# "About 500 lines": a module read in one sitting (README, Layout). Data tables (JSON beside
# the code) do not count; neither do tests.
MAX_MODULE_LINES = 520


def test_every_module_stays_small_enough_to_read_in_one_sitting() -> None:
    sizes = {str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
             for path in (ROOT / "app").rglob("*.py")}
    assert {path: n for path, n in sizes.items() if n > MAX_MODULE_LINES} == {}
