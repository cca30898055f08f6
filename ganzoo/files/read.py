"""Files named by a board, a result or a run are read only when they are what they claim to be.

A board JSON, a result file or a run directory may come from someone else (a
committed board that CI publishes, a downloaded run), and what ganzoo reads
from them ends up base64-encoded in a page or copied into a folder meant for
upload.  A path they name could be ``/etc/hostname``, ``../../secret.txt``,
``/proc/self/environ`` (tokens), ``/dev/zero`` (memory) or a FIFO (a hang),
directly or through a symlink.  So such a file is read only when it resolves
inside the folder it belongs to, is a regular file under a size limit and, for
a picture, decodes as a PNG.  Anything else is left out with one warning
naming the path and why; the caller keeps the rest (a row keeps its numbers).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from ..errors import warn

#: A sample grid or curves plot larger than this is not a picture ganzoo wrote.
PNG_LIMIT = 8 * 2**20
#: A PNG of more pixels than a square of this side is not decoded (a small file can hold a
#: huge image).
PNG_MAX_SIDE = 4096
#: A run's JSON files (run.json, progress.json, results) are far smaller than this.
JSON_LIMIT = 64 * 2**20
#: Pseudo-file systems: their "regular files" are the process's or the kernel's state.
SYSTEM = (Path("/proc"), Path("/sys"), Path("/dev"))

_warned: ContextVar[set[str] | None] = ContextVar("ganzoo_files_read_warned", default=None)


class Refused(Exception):
    """A named file that is not read; ``reason`` says why, for the one warning."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@contextlib.contextmanager
def each_warning_once() -> Iterator[None]:
    """Within this block a warning is printed once, however often the file is met.

    A rebuild reads a run's files more than once (deciding what to score, then
    building the board, again after a new floor); the user needs to hear once.
    """
    token = _warned.set(set())
    try:
        yield
    finally:
        _warned.reset(token)


def warn_once(message: str, path: Path | None = None) -> None:
    """``ganzoo.errors.warn``, except a repeat inside ``each_warning_once``.

    A repeat is the same message, or any message about the same ``path``
    however it is spelt (``runs/a`` and ``/home/me/runs/a`` are one run).
    """
    seen = _warned.get()
    if seen is not None:
        key = message if path is None else _spelling_free(Path(path))
        if key in seen:
            return
        seen.add(key)
    warn(message)


def _spelling_free(path: Path) -> str:
    try:
        return str(path.parent.resolve() / path.name)
    except (OSError, RuntimeError):  # a symlink loop above it
        return str(path)


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _size(limit: int) -> str:
    return f"{limit // 2**20} MiB" if limit >= 2**20 else f"{limit} bytes"


def _resolved(path: Path, folder: Path | None, where: str) -> Path:
    """``path`` with every symlink followed, refused when it leaves ``folder`` or is a system file."""
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        raise
    except (OSError, RuntimeError) as exc:  # a symlink loop, a forbidden folder
        raise Refused(f"it cannot be resolved ({getattr(exc, 'strerror', None) or exc})") from None
    if folder is not None and not real.is_relative_to(folder.resolve()):
        raise Refused(f"it resolves to {str(real)!r}, outside {where} {str(folder)!r}")
    if any(real.is_relative_to(system) for system in SYSTEM):
        raise Refused(f"it resolves to {str(real)!r}, a system file")
    return real


def read_regular(path: Path, limit: int, folder: Path | None = None, where: str = "") -> bytes:
    """The bytes of ``path``, if it is a regular file of at most ``limit`` bytes (inside ``folder``).

    Opened with O_NOFOLLOW and O_NONBLOCK and checked with fstat before any
    read, so a FIFO or a device is never read and nothing hangs; never more than
    ``limit + 1`` bytes are read.  Raises ``Refused`` with the reason, or
    ``FileNotFoundError`` for a missing file.
    """
    real = _resolved(Path(path), folder, where or "the folder")
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(real, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a symlink since it was resolved
            raise Refused("it is a symbolic link") from None
        raise Refused(f"it cannot be opened ({exc.strerror or exc})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise Refused(f"it is {_kind(mode)}")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(limit + 1 - total, 2**20))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise Refused(f"it cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if total > limit:
        raise Refused(f"it is larger than {_size(limit)}")
    return b"".join(chunks)


def png_problem(data: bytes) -> str | None:
    """Why ``data`` is not a PNG ganzoo may show; None when it decodes as one."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                return f"it is a {image.format or 'non-PNG'} image, not a PNG"
            width, height = image.size
            if width * height > PNG_MAX_SIDE**2:
                return f"it is {width}x{height} pixels, more than {PNG_MAX_SIDE}x{PNG_MAX_SIDE}"
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except UnidentifiedImageError:
        return "it is not a PNG image"
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return f"it is not a readable PNG ({' '.join(str(exc).split()) or type(exc).__name__})"
    return None


def read_png(path: Path, folder: Path, what: str, where: str) -> bytes | None:
    """The bytes of a PNG that ``folder`` (``where``: "the board folder") names, or None.

    None comes with one warning, "``what`` PATH left out: why" (missing files
    too: a board or run that names a picture should have it).
    """
    try:
        data = read_regular(path, PNG_LIMIT, folder, where)
        problem = png_problem(data)
    except FileNotFoundError:
        problem = "it does not exist"
    except Refused as exc:
        problem = exc.reason
    if problem is None:
        return data
    warn_once(f"{what} {str(path)!r} left out: {problem}", path)
    return None
