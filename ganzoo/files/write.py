"""Write-then-rename, so a crash or SIGKILL never leaves a half-written file behind.

Every file ganzoo writes (checkpoints, run metadata, cached statistics,
converted weights, leaderboards) goes through here: a temp file in the same
directory, flushed and fsynced, then ``os.replace``d over the target.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ..errors import GanzooError


class UnwritableError(GanzooError):
    """A file or folder that could not be written (a full disk, a read-only or forbidden folder).

    It keeps the path and the OS's reason, so that a caller who knows what the
    file is (a run's checkpoint, a leaderboard) can say what is still intact and
    how to go on, instead of the generic advice.
    """

    def __init__(self, path: Path, exc: OSError, what: str = "write", advice: str = "") -> None:
        self.path = path
        self.errno = exc.errno
        self.reason = exc.strerror or str(exc)
        self.what = what
        super().__init__(
            f"cannot {what} {str(path)!r}: {self.reason}; {advice or 'choose another location'}"
        )

    def advise(self, advice: str) -> UnwritableError:
        """The same failure with advice that fits what the file is."""
        return UnwritableError(self.path, OSError(self.errno, self.reason), self.what, advice)

    @property
    def full(self) -> bool:
        """The disk (or the user's quota) is full: freeing space fixes it, not permissions."""
        return self.errno in (errno.ENOSPC, errno.EDQUOT)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def make_dirs(path: str | Path) -> Path:
    """``mkdir -p``, with a folder that cannot be made reported as one line."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
        if blocker:
            exc = OSError(exc.errno, f"{str(blocker)!r} is a file")
        raise UnwritableError(path, exc, "create folder") from None
    return path


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Yield a temp file beside ``path``; on success fsync it and rename it over ``path``.

    A location that cannot be written (permissions, a full disk) is a one-line
    ``UnwritableError``, and the temp file is removed whatever happens.
    """
    path = Path(path)
    make_dirs(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _unwritable(path, exc) from None
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide results from other users
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno is not None and exc.filename in (None, tmp):
            raise _unwritable(path, exc) from None  # not about some other file the caller read
        raise
    _fsync_dir(path.parent)


def _unwritable(path: Path, exc: OSError) -> UnwritableError:
    return UnwritableError(path, exc)


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_write(path, "w") as fh:
        fh.write(text)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
