"""setuptools build step: copy the migrations and the seed OPML into the package being built.

The top-level `migrations/` and `seeds/` folders stay the only source (alembic's own layout,
and `alembic.ini` in a checkout points at them); a wheel needs them inside the package, because
an installed package has no checkout beside it. `app/resources.py` finds the copies in
`app/bundled/`. Registered in pyproject.toml as the `build_py` command; an editable install
skips the copy and reads the originals.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parents[1]
# (source, destination under the package, files to take)
BUNDLE = [
    ("migrations", "migrations", ["env.py", "script.py.mako", "versions/*.py"]),
    ("seeds", "seeds", ["news-feeds.opml"]),
]


class BuildPy(build_py):  # type: ignore[misc]  # setuptools is untyped here
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "app" / "bundled"
        shutil.rmtree(target, ignore_errors=True)
        for source, destination, patterns in BUNDLE:
            for pattern in patterns:
                found = sorted((ROOT / source).glob(pattern))
                if not found:
                    raise FileNotFoundError(f"build: nothing matches {source}/{pattern}")
                for path in found:
                    out = target / destination / path.relative_to(ROOT / source)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, out)
