"""The error tree of news-ingest.

    NewsIngestError
    ├── FetchError            an outgoing request failed (message says why; `kind` is stable)
    │   ├── BlockedAddressError   the target resolves to a private/loopback/... address
    │   └── BodyTooLargeError     the decompressed body exceeds the configured limit
    ├── FeedParseError        the document is not a feed we can read
    ├── NotFoundError         an object the caller named does not exist        -> 404
    ├── ConflictError         the request clashes with stored state            -> 409
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


class NotFoundError(NewsIngestError):
    pass


class ConflictError(NewsIngestError):
    pass


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
