"""Weights files torch-fidelity would unpickle, proven plain before it may load them.

torch-fidelity loads an extractor's weights with ``torch.load(weights_only=False)``:
any such file is a pickle that could run code.  ganzoo therefore never hands an
extractor the file it was given.  (The reference features are cached by ganzoo
itself as safetensors, ``refcache``, which cannot hold code at all.)  It reads the bytes once, checks them
against the sha256 the resolver holds in code (when the file is a known one),
proves with ``torch.load(weights_only=True)`` that they hold only tensors and
plain values, and writes exactly those bytes to a private temporary directory;
that copy is what the extractor loads.  A file swapped between the check and
the load cannot reach the extractor, and a file that fails any check is refused
with one line.  This holds for every extractor, first-party or not.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import GanzooError
from .extractors import ResolvedWeights


class UnsafeWeightsError(GanzooError):
    """A weights file that is not plain tensors (it could run code), or not the expected file."""


def load_verified(
    path: str | os.PathLike,
    expected_sha256: str | None,
    what: str,
    fix: str,
    torchscript: bool = False,
) -> tuple[bytes, Mapping | None]:
    """The file's bytes and its state dict, after proving both safe (and expected, if known).

    A TorchScript archive (``torchscript=True``: a publisher's own file, such as
    OpenAI's CLIP weights) cannot be loaded with ``weights_only=True``; it is
    accepted only when its sha256 is one held in the code.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GanzooError(f"cannot read {what} {str(path)!r}: {exc.strerror or exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    if expected_sha256 is not None and digest != expected_sha256:
        raise UnsafeWeightsError(
            f"{what} {str(path)!r} has sha256 {digest[:12]}..., not the expected "
            f"{expected_sha256[:12]}...: it was changed or damaged; {fix}"
        )
    if torchscript:
        if expected_sha256 is None:
            raise UnsafeWeightsError(
                f"{what} {str(path)!r} is a TorchScript archive, which ganzoo accepts only with a "
                f"known sha256; {fix}"
            )
        return data, None
    return data, plain_tensors(data, path, what, fix)


def plain_load(data: bytes) -> Any:
    """``torch.load`` that can only build tensors and plain values (``pickle.UnpicklingError`` else)."""
    import torch

    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def plain_tensors(data: bytes, path: Path, what: str, fix: str) -> Mapping:
    """Load ``data`` with ``weights_only=True``; a pickle with code in it is refused."""
    try:
        state = plain_load(data)
    except pickle.UnpicklingError:
        raise UnsafeWeightsError(
            f"refusing {what} {str(path)!r}: it holds Python objects other than tensors, which "
            f"could run code when loaded; {fix}"
        ) from None
    except (RuntimeError, EOFError, ValueError, OSError, zipfile.BadZipFile):
        raise UnsafeWeightsError(
            f"{what} {str(path)!r} is not a readable PyTorch weights file (damaged or another "
            f"format); {fix}"
        ) from None
    if not isinstance(state, Mapping):
        raise UnsafeWeightsError(
            f"{what} {str(path)!r} holds a {type(state).__name__}, not a state dict of tensors; "
            f"{fix}"
        )
    return state


@contextlib.contextmanager
def private_copy(resolved: ResolvedWeights, extractor: str) -> Iterator[ResolvedWeights]:
    """``resolved`` with ``path`` replaced by a validated private copy and ``sha256`` of its bytes.

    The copy lives in a fresh 0700 directory for the duration of the block.
    """
    if resolved.path is None:
        yield resolved
        return
    what = f"weights file of feature extractor {extractor!r}"
    fix = (
        "restore the original file (reinstall the package that ships it, or delete a downloaded "
        "copy to fetch it again)"
        if resolved.expected_sha256
        else "give a plain state-dict file (torch.save(model.state_dict(), path))"
    )
    torchscript = resolved.format == "torchscript"
    data, _ = load_verified(resolved.path, resolved.expected_sha256, what, fix, torchscript)
    directory = tempfile.mkdtemp(prefix="ganzoo-weights-")
    try:
        copy = Path(directory, "weights" + (Path(resolved.path).suffix or ".pt"))
        copy.write_bytes(data)
        sha256 = hashlib.sha256(data).hexdigest()
        yield replace(resolved, path=str(copy), sha256=sha256)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
