"""Quotes found on request (POST /v1/quotes:extract): in the API's own pool, within the quotes budget."""

from __future__ import annotations

from app.domain.quotes import Quote
from app.pipeline.analyse import quotes_of
from app.runtime import Runtime


async def extract(runtime: Runtime, text: str, title: str | None) -> tuple[Quote, ...]:
    """The quotes of `text`, nothing stored. CpuBudgetError past the budget; BusyError when every
    worker stays busy that long."""
    budget = runtime.settings.quotes_budget_s
    found: tuple[Quote, ...] = await runtime.api_cpu.run("quotes", quotes_of, text, title, wait_s=budget)
    return found
