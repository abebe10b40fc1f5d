"""The error tree of news-ingest.

    NewsIngestError
    ├── FetchError            an outgoing request failed (message says why; `kind` is stable)
    │   ├── BlockedAddressError   the target resolves to a private/loopback/... address
    │   └── BodyTooLargeError     the decompressed body exceeds the configured limit
    ├── FeedParseError        the document is not a feed we can read
    ├── CpuStepError          a CPU step (parse, extract, quotes) could not finish: `step`
    │   └── CpuBudgetError       it ran over its time budget and was abandoned -> 422
    ├── BusyError             no capacity right now; try again later          -> 503
    ├── NotFoundError         an object the caller named does not exist        -> 404
    ├── ConflictError         the request clashes with stored state            -> 409
    │   └── DuplicateFeedError    the feed is registered already: `feed_id`, `url`
    ├── InvalidRequestError   the request is well-formed JSON but not sensible -> 422
    │   ├── InvalidQueryError     a search query that cannot be parsed         -> 422
    │   └── PayloadTooLargeError  a request body over the limit                -> 413
    ├── GoneError             a callback that is not (or no longer) subscribed -> 410
    ├── SignatureError        a pushed body without a valid signature          -> 403
    └── AuthError             missing/invalid credentials                      -> 401
        └── ForbiddenError        valid key, insufficient scope                -> 403

Messages start with the component ("fetch: body exceeds 10 MiB") so logs and API problems read alike.
"""

from __future__ import annotations


class NewsIngestError(Exception):
    """Base class of every error news-ingest raises on purpose."""


class FetchError(NewsIngestError):
    """An outgoing HTTP request failed. `kind` is a short stable token for metrics and the API."""

    def __init__(self, message: str, *, kind: str = "fetch", status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after


class BlockedAddressError(FetchError):
    def __init__(self, message: str) -> None:
        super().__init__(message, kind="blocked_address")


class BodyTooLargeError(FetchError):
    def __init__(self, message: str) -> None:
        super().__init__(message, kind="body_too_large")


class FeedParseError(NewsIngestError):
    pass


class CpuStepError(NewsIngestError):
    """A CPU-bound step could not finish (its worker process died). `step` names it
    ("parse", "extract", "quotes"); the message says why."""

    def __init__(self, message: str, *, step: str) -> None:
        super().__init__(message)
        self.step = step


class CpuBudgetError(CpuStepError):
    """A CPU-bound step ran longer than its budget (seconds) and was abandoned."""

    def __init__(self, step: str, budget_s: float, *, killed: bool = False) -> None:
        super().__init__(f"{step}: stopped after its time budget of {budget_s:g} s", step=step)
        self.budget_s = budget_s
        # True: its worker process was killed, so deadlines inside the step had every chance to
        # stop it first and did not (a call into C that never returned). False: a thread, which
        # no deadline reaches, abandoned and running on.
        self.killed = killed


class BusyError(NewsIngestError):
    """No capacity for this work now; `retry_after_s` says when to try again."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class NotFoundError(NewsIngestError):
    pass


class ConflictError(NewsIngestError):
    pass


class DuplicateFeedError(ConflictError):
    """The feed URL is registered already, as feed `feed_id` at `url` (the API names it)."""

    def __init__(self, feed_id: int, url: str) -> None:
        super().__init__(f"feeds: {url} is already registered, as feed {feed_id}")
        self.feed_id = feed_id
        self.url = url


class InvalidRequestError(NewsIngestError):
    pass


class InvalidQueryError(InvalidRequestError):
    pass


class PayloadTooLargeError(InvalidRequestError):
    pass


class GoneError(NewsIngestError):
    pass


class SignatureError(NewsIngestError):
    pass


class AuthError(NewsIngestError):
    pass


class ForbiddenError(AuthError):
    pass
