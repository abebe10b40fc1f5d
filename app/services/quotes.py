"""Quotes found on request (POST /v1/quotes:extract): in the API's own pool, within the quotes budget."""

from __future__ import annotations

from collections.abc import Callable

from app.pipeline.analyse import quotes_json_of
from app.runtime import Runtime


async def extract_json(runtime: Runtime, body: bytes, read: Callable[[bytes], tuple[str, str | None]]) -> bytes:
    """The quotes of the text in a request body as a JSON array, nothing stored. `read` turns the
    body into (text, title), raising what the API answers for a bad body; it runs in the worker
    too, so neither reading the body nor encoding thousands of quotes costs the event loop.
    CpuBudgetError past the budget; BusyError when every worker stays busy that long."""
    budget = runtime.settings.quotes_budget_s
    found: bytes = await runtime.api_cpu.run("quotes", quotes_json_of, read, body, wait_s=budget)
    return found
