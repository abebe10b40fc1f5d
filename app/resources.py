"""Files the service reads at run time that are not Python modules: the alembic migrations and
the seed OPML.

The repository's top-level `migrations/` and `seeds/` folders are their source. A built wheel
carries copies of them in `app/bundled/` (written by `tools/build_wheel_data.py` while the wheel
is built), so an installed package migrates and seeds wherever it runs; a source checkout (an
editable install) has no `app/bundled/` and reads the originals beside `app/`. Nothing is looked
up in the working directory: a `migrations/` folder of some other project there is not ours.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
BUNDLED = PACKAGE / "bundled"
CHECKOUT = PACKAGE.parent


def _find(*parts: str) -> Path | None:
    for root in (BUNDLED, CHECKOUT):
        path = root.joinpath(*parts)
        if path.exists():
            return path
    return None


def migrations_dir() -> Path:
    path = _find("migrations", "env.py")
    if path is None:
        raise RuntimeError(f"migrate: no migrations in {BUNDLED} or {CHECKOUT}; the package was built "
                           "without them (build it with `pip install .` or `pip wheel .`, which copies them)")
    return path.parent


def seed_opml() -> Path | None:
    """The bundled OPML of public news feeds that `serve --seed` imports."""
    return _find("seeds", "news-feeds.opml")
