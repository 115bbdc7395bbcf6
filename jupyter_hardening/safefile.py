"""Read a file named by a setting without trusting it: a regular file, of bounded size.

Every file the audit, the preflight or the commands read goes through :func:`read_bounded`. A
FIFO would block ``open()`` until a writer comes (the server never starts), ``/dev/zero`` would be
read until memory runs out, and a multi-gigabyte "certificate" would be read whole: each of them is
a :class:`FileRefused` instead, an ``OSError`` whose ``strerror`` says why in a few words.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

KIB = 1024
# A token, a cookie secret, a runtime file or a config file: jupyter_server writes a few hundred
# bytes. Certificates: a full chain is a few KiB, Debian's whole CA bundle about 220 KiB.
SECRET_LIMIT = 64 * KIB
CERT_LIMIT = 4 * KIB * KIB

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class FileRefused(OSError):
    """The file is not something to read: not a regular file, too large, or someone else's."""

    def __init__(self, reason: str, code: int = errno.EINVAL) -> None:
        super().__init__(code, reason)


def kind_of(mode: int) -> str:
    """What a stat mode is, in words: "a folder", "a named pipe (FIFO)" ..."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def not_a_file(path: str | Path) -> str:
    """Why ``path``, given as a file, is none: "no such file", "a folder, not a file" ..."""
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return "no such file"
    return f"{kind_of(mode)}, not a file"


def _size(limit: int) -> str:
    return f"{limit // (KIB * KIB)} MiB" if limit >= KIB * KIB else f"{limit // KIB} KiB"


def check_regular(
    st: os.stat_result, limit: int, owner: int | None = None, *, private: bool = False
) -> None:
    """Raise FileRefused unless ``st`` is a regular file of at most ``limit`` bytes (and owner's;
    with ``private``, not writable by group or others)."""
    if not stat.S_ISREG(st.st_mode):
        raise FileRefused(f"is {kind_of(st.st_mode)}, not a regular file")
    if st.st_size > limit:
        raise FileRefused(f"is larger than {_size(limit)}", errno.EFBIG)
    if owner is not None and st.st_uid != owner:
        raise FileRefused(f"belongs to uid {st.st_uid}, not uid {owner}", errno.EPERM)
    if private and st.st_mode & 0o022:
        raise FileRefused("can be written by group or others", errno.EPERM)


def read_bounded(
    path: str, limit: int, *, owner: int | None = None, private: bool = False
) -> bytes:
    """The bytes of the regular file at ``path`` (at most ``limit``), or raise OSError.

    Symlinks are followed (certbot's live/ files and Kubernetes secrets are links). ``stat``
    first, so that a device is never opened; ``open`` with O_NONBLOCK, so that a FIFO swapped in
    since cannot block; ``fstat`` on what was opened, so that the checks hold for the file read.
    With ``owner``, a file owned by another uid is refused too. With ``private`` (a file only its
    owner can have written: a cache to believe), a symlink, or a file that group or others can
    write, is refused as well.
    """
    check_regular(os.lstat(path) if private else Path(path).stat(), limit, owner, private=private)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    if private:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        check_regular(os.fstat(fd), limit, owner, private=private)
        chunks: list[bytes] = []
        left = limit + 1  # one more than allowed: a file that grew is caught, not truncated
        while left > 0:
            chunk = os.read(fd, min(left, 64 * KIB))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise FileRefused(f"is larger than {_size(limit)}", errno.EFBIG)
    return data
