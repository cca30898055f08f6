"""Seeds derived from tuples of integers: independent streams without a shared counter.

A rank's training noise is (seed, rank), an evaluation's chunk of images is
(seed, chunk): each is a pure function of its parts, so it is the same number
whichever process computes it, and how many processes there are never enters.
"""

from __future__ import annotations

import hashlib

#: The largest seed any option takes: 63 bits, what ``derived_seed`` makes (torch and numpy take all).
MAX_SEED = 2**63 - 1


def derived_seed(*parts: int) -> int:
    """A 63-bit seed from integers, independent for different tuples."""
    digest = hashlib.sha256(":".join(str(int(p)) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1
