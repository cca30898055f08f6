"""The tensors a safetensors file holds, read from its header alone, without loading them.

A safetensors file is an 8-byte little-endian length, that many bytes of JSON
naming every tensor's dtype, shape and byte range, then the raw data.  Reading
only the header lets loading compare the shapes a folder's weights have with
the shapes its config makes the model build, before building anything: the
header's own claims are checked against the file's size first, so a header that
says it is a terabyte long, or a tensor whose bytes run past the end of the
file, is one line and nothing is allocated beyond the file itself.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import GanzooError
from .fields import shown

#: safetensors' own limit on the header's length (its MAX_HEADER_SIZE).
MAX_HEADER_BYTES = 100_000_000
#: torch's own limit on a tensor's dimensions; it also keeps a shape's product cheap.
MAX_DIMS = 64
ITEM_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8,
}  # fmt: skip


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as the header describes it."""

    dtype: str
    shape: tuple[int, ...]


def read_header(path: Path) -> dict[str, TensorInfo]:
    """Every tensor's dtype and shape, from at most the header's bytes of ``path``."""
    try:
        with path.open("rb") as fh:
            size = path.stat().st_size
            length = int.from_bytes(fh.read(8), "little") if size >= 8 else -1
            if not 0 < length <= min(size - 8, MAX_HEADER_BYTES):
                raise _unreadable(path, _length_problem(length, size))
            text = fh.read(length)
    except OSError as exc:
        raise GanzooError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        header = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise _unreadable(path, f"its header is not JSON: {type(exc).__name__}") from None
    if not isinstance(header, dict):
        raise _unreadable(path, "its header is not a JSON object")
    data_bytes = size - 8 - length
    return {
        name: _tensor(path, name, entry, data_bytes)
        for name, entry in header.items()
        if name != "__metadata__"
    }


def _length_problem(length: int, size: int) -> str:
    if length < 0:
        return f"it is {size} bytes long, shorter than the 8-byte header length"
    if length == 0:
        return "its header is empty"
    if length > MAX_HEADER_BYTES:
        return f"its header claims {length:,} bytes (safetensors allows {MAX_HEADER_BYTES:,})"
    return f"its header claims {length:,} bytes but the file holds {size:,}"


def _unreadable(path: Path, why: str) -> GanzooError:
    return GanzooError(
        f"{path} is not a readable safetensors file ({why}); export or download the model again"
    )


def _tensor(path: Path, name: str, entry: Any, data_bytes: int) -> TensorInfo:
    """One header entry, its shape and byte range checked against each other and the file."""
    if not isinstance(entry, dict):
        raise _unreadable(path, f"tensor {shown(name)} is described by {shown(entry)}")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in ITEM_BYTES:
        raise _unreadable(path, f"tensor {shown(name)} has unknown dtype {shown(dtype)}")
    if not isinstance(shape, list) or len(shape) > MAX_DIMS or not all(map(_count, shape)):
        raise _unreadable(path, f"tensor {shown(name)} has shape {shown(shape)}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_count, offsets))):
        raise _unreadable(path, f"tensor {shown(name)} has data_offsets {shown(offsets)}")
    begin, end = offsets
    if not begin <= end <= data_bytes or end - begin != math.prod(shape) * ITEM_BYTES[dtype]:
        raise _unreadable(
            path,
            f"tensor {shown(name)} of shape {shown(shape)} does not fit its bytes "
            f"{begin}..{end} of the {data_bytes:,} the file holds",
        )
    return TensorInfo(dtype, tuple(shape))


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63
