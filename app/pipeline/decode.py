"""Body decoding: Content-Encoding undone over the raw stream (not by httpx), so the size limit
applies to the decompressed output while it is produced: zlib and brotli are driven with an
output cap, so a small bomb never inflates past the limit in memory.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

try:  # installed with httpx[brotli]; brotli 1.2+ has output_buffer_limit
    import brotli
except ImportError:  # pragma: no cover
    brotli = None

from app.domain.errors import BodyTooLargeError, FetchError

MiB = 1024 * 1024


class Decoder:
    """Incremental Content-Encoding decoder with a cap on output (gzip, deflate, br, identity).

    Each layer is asked for at most `limit + 1` bytes per call, so a decompression bomb is cut
    off after at most one byte past the limit instead of being inflated in memory first.
    """

    def __init__(self, encodings: list[str], limit: int) -> None:
        self._limit = limit
        self._size = 0
        self._steps: list[Callable[[bytes], bytes]] = []
        # Content-Encoding lists codings in the order applied; undo them in reverse.
        for coding in reversed(encodings):
            if coding in ("gzip", "x-gzip"):
                self._steps.append(self._zlib_step(16 + zlib.MAX_WBITS))
            elif coding == "deflate":
                self._steps.append(self._deflate_step())
            elif coding == "br" and brotli is not None:
                self._steps.append(self._brotli_step())
            elif coding != "identity":
                raise FetchError(f"fetch: unsupported content-encoding {coding!r}", kind="decode")

    def _cap(self, produced: int) -> int:
        return max(1, self._limit - self._size - produced + 1)

    def _zlib_step(self, wbits: int) -> Callable[[bytes], bytes]:
        d = zlib.decompressobj(wbits)

        def step(data: bytes) -> bytes:
            out: list[bytes] = []
            produced = 0
            while data and not d.eof:
                chunk = d.decompress(data, self._cap(produced))
                out.append(chunk)
                produced += len(chunk)
                if self._size + produced > self._limit:
                    break
                data = d.unconsumed_tail
            return b"".join(out)

        return step

    def _deflate_step(self) -> Callable[[bytes], bytes]:
        # "deflate" means zlib-wrapped (RFC 9110 §8.4.1.2) but some servers send raw deflate;
        # a zlib stream starts with a CMF byte whose low nibble is 8 and a valid header check.
        chosen: list[Callable[[bytes], bytes]] = []

        def step(data: bytes) -> bytes:
            if not chosen:
                wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
                chosen.append(self._zlib_step(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS))
            return chosen[0](data)

        return step

    def _brotli_step(self) -> Callable[[bytes], bytes]:
        assert brotli is not None
        d = brotli.Decompressor()

        def step(data: bytes) -> bytes:
            out = [d.process(data, output_buffer_limit=self._cap(0))]
            produced = len(out[0])
            # With a capped buffer the decoder may hold more output; drain it (input must be
            # empty until it can accept more data again).
            while not d.can_accept_more_data() and self._size + produced <= self._limit:
                more = d.process(b"", output_buffer_limit=self._cap(produced))
                if not more:
                    break
                out.append(more)
                produced += len(more)
            return b"".join(out)

        return step

    def feed(self, data: bytes) -> bytes:
        try:
            for step in self._steps:
                data = step(data)
        except zlib.error as exc:
            raise FetchError(f"fetch: cannot decode body: {exc}", kind="decode") from exc
        except Exception as exc:
            if brotli is not None and isinstance(exc, brotli.error):
                raise FetchError(f"fetch: cannot decode body: {exc}", kind="decode") from exc
            raise
        self._size += len(data)
        if self._size > self._limit:
            raise BodyTooLargeError(f"fetch: body exceeds {fmt_size(self._limit)}")
        return data


def fmt_size(n: int) -> str:
    return f"{n // MiB} MiB" if n % MiB == 0 else f"{n} bytes"
