"""SimHash keys compared: bands for an exact-match index, and the distance between two hashes. Pure.

    simhash_bands(h, bands=4) -> list[int]    band values for an exact-match index
    hamming(a, b) -> int; is_near_duplicate(a, b, max_distance=3) -> bool

The hashes (app.pipeline.dedup.simhash64) are signed 64-bit values so they fit a BIGINT column;
`hamming` masks to 64 bits, so signed and unsigned spellings of the same bit pattern compare equal.

Banding: split the 64 bits into `bands` equal slices. Two hashes within `bands - 1` bits of
each other differ in at most bands-1 slices, so (pigeonhole) at least one slice is identical:
look up candidates by "any band equal", then confirm with `hamming`. With 4 bands of 16 bits this
finds every pair within 3 bits.
"""

from __future__ import annotations

MASK64 = (1 << 64) - 1


def simhash_bands(h: int, bands: int = 4) -> list[int]:
    """Split the 64 bits of `h` into `bands` slices (most significant first), each an
    unsigned int of 64/bands bits. `bands` must divide 64."""
    if bands <= 0 or 64 % bands:
        raise ValueError("dedup: bands must divide 64")
    width = 64 // bands
    value = h & MASK64
    mask = (1 << width) - 1
    return [(value >> (width * (bands - 1 - i))) & mask for i in range(bands)]


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit hashes (signed or unsigned spelling)."""
    return ((a ^ b) & MASK64).bit_count()


def is_near_duplicate(a: int, b: int, max_distance: int = 3) -> bool:
    return hamming(a, b) <= max_distance
