"""The command line and its settings: a variable that is no setting is named, not ignored in
silence; the health check reads the configured port."""

from __future__ import annotations

from click.testing import CliRunner

from app.cli import main
from app.config import unknown_variables
from tests.processes import free_port


def test_an_unknown_variable_is_named() -> None:
    port = str(free_port())  # nothing listens: the check fails, after the warning
    result = CliRunner().invoke(main, ["healthcheck"], env={"NEWS_INGEST_WORKERS_IN_API": "true",
                                                            "NEWS_INGEST_PORT": port})
    assert "NEWS_INGEST_WORKERS_IN_API is not a setting" in result.output
    assert result.exit_code == 1 and f"127.0.0.1:{port}/readyz" in result.output


def test_known_variables_pass_quietly() -> None:
    assert unknown_variables({"NEWS_INGEST_PORT": "1", "NEWS_INGEST_DATABASE_URL": "x", "DATABASE_URL": "y",
                              "news_ingest_log_level": "DEBUG", "HOME": "/root"}) == []
    assert unknown_variables({"NEWS_INGEST_PROT": "1"}) == ["NEWS_INGEST_PROT"]
