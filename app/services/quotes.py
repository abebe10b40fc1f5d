"""Quotes found on request (POST /v1/quotes:extract): in the API's own pool, within the quotes budget."""

from __future__ import annotations

from app.pipeline.analyse import quotes_json
from app.runtime import Runtime


async def extract_json(runtime: Runtime, text: str, title: str | None) -> bytes:
    """The quotes of `text` as a JSON array, nothing stored; encoded in the worker, so a text with
    thousands of quotes costs the event loop nothing. CpuBudgetError past the budget; BusyError
    when every worker stays busy that long."""
    budget = runtime.settings.quotes_budget_s
    found: bytes = await runtime.api_cpu.run("quotes", quotes_json, text, title, wait_s=budget)
    return found
