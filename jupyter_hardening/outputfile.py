"""Write a command's output file (a proxy config, a systemd unit) in one step, and only where
no other user could swap it afterwards."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from .safefile import kind_of


class UnsafeOutput(OSError):
    """An --output whose folder or link another user controls; strerror says which and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(errno.EPERM, reason)


def _trusted_owner(uid: int) -> bool:
    # Root can replace anything anyway: its links and folders are no risk to anyone.
    return uid in (os.geteuid(), 0)


def _who(uid: int) -> str:
    import pwd

    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def _group_is_private(gid: int) -> bool:
    """True when the group is this user's own (a user private group with no other members)."""
    import grp
    import pwd

    if gid != os.getegid():
        return False
    try:
        members = set(grp.getgrgid(gid).gr_mem)
        me = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return False
    return members <= {me}


def check_folder(folder: Path) -> None:
    """Raise UnsafeOutput when a user other than this one (or root) could replace a file there."""
    st = folder.stat()
    sticky = bool(st.st_mode & stat.S_ISVTX)
    if not _trusted_owner(st.st_uid):
        raise UnsafeOutput(
            f"the folder {folder} belongs to {_who(st.st_uid)}, who could replace the file "
            "after it is written; write into a folder of yours (e.g. /etc/nginx/conf.d as root)"
        )
    if not sticky and (
        st.st_mode & stat.S_IWOTH
        or (st.st_mode & stat.S_IWGRP and not _group_is_private(st.st_gid))
    ):
        who = "everyone" if st.st_mode & stat.S_IWOTH else f"group {st.st_gid}"
        raise UnsafeOutput(
            f"the folder {folder} is writable by {who} without the sticky bit, so another user "
            "could replace the file after it is written; write into a folder only you can write"
        )


_MAX_LINKS = 40  # as the kernel's limit on links followed in one path


def _link_refused(link: Path, uid: int) -> UnsafeOutput:
    return UnsafeOutput(
        f"{link} is a symlink of {_who(uid)}, who chooses where it leads; give the real path"
    )


def _real_folder(folder: Path) -> Path:
    """``os.path.realpath(folder)``, resolved component by component so that every symlink met
    on the way, in the path given or in the targets of links followed, is this user's or root's
    (UnsafeOutput otherwise). What does not exist yet is kept as given."""
    resolved = Path(folder.anchor or "/")
    parts = list(folder.parts[1:])
    links = 0
    while parts:
        part = parts.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            resolved = resolved.parent
            continue
        candidate = resolved / part
        try:
            st = candidate.lstat()
        except FileNotFoundError:
            return candidate.joinpath(*parts)  # the write fails with "No such file or directory"
        if not stat.S_ISLNK(st.st_mode):
            resolved = candidate
            continue
        if not _trusted_owner(st.st_uid):
            raise _link_refused(candidate, st.st_uid)
        links += 1
        if links > _MAX_LINKS:
            raise OSError(errno.ELOOP, "too many levels of symbolic links")
        target = candidate.readlink()
        if target.is_absolute():
            resolved = Path(target.anchor)
        parts = [*target.parts[1 if target.is_absolute() else 0 :], *parts]
    return resolved


def _landing(given: Path) -> tuple[Path, bool]:
    """Where a write to ``given`` lands, and whether that is a symlink of another user (which is
    replaced, never followed). Links of this user or root are followed one by one, each hop's
    folders resolved by :func:`_real_folder`; under /proc (``/dev/stdout`` ->
    /proc/self/fd/1, links the kernel makes for this process) the kernel resolves the rest."""
    current = _real_folder(given.parent) / given.name
    for _ in range(_MAX_LINKS):
        if current.parts[1:2] == ("proc",):
            return current, False
        try:
            st = current.lstat()
        except FileNotFoundError:
            return current, False
        if not stat.S_ISLNK(st.st_mode):
            return current, False
        if not _trusted_owner(st.st_uid):
            return current, True
        hop = current.parent / current.readlink()
        current = _real_folder(hop.parent) / hop.name
    raise OSError(errno.ELOOP, "too many levels of symbolic links")


def _check_ancestors(folder: Path) -> None:
    """check_folder on ``folder`` and every folder above it: whoever can rename one of them
    can put another file where this one was written."""
    for ancestor in [*reversed(folder.parents), folder]:
        check_folder(ancestor)


def _check_stream_owner(path: Path, st: os.stat_result) -> None:
    """Raise UnsafeOutput unless the pipe or device at ``path`` is this user's or root's."""
    if not _trusted_owner(st.st_uid):
        raise UnsafeOutput(
            f"{path} is {kind_of(st.st_mode)} of {_who(st.st_uid)}, who would receive the "
            "output (and could hand back another); write to a file of yours, or to stdout"
        )


def write_atomically(path: str, text: str) -> None:
    """Replace the file at ``path`` with a new file of this user holding ``text``, in one step.

    A failure (no such folder, no permission, disk full) leaves an existing file as it was: a
    half-written file in /etc/nginx would stop nginx at its next start. The new file always
    belongs to the user running the command, never to the previous file's owner. A symlink of
    this user or root (Debian's sites-enabled -> sites-available) is followed and its target
    replaced, hop by hop; a symlink of anyone else is itself replaced by the new file, never
    followed. A folder, at any level above the file, that someone else owns or could write into
    (without the sticky bit), or a symlink of someone else on the way to it (in the path given
    or in a link followed), is refused (UnsafeOutput). A pipe or a terminal of this user or root
    (``--output /dev/stdout``, /dev/tty) is written to, not replaced; another user's is refused.
    """
    given = Path(path).absolute()
    landing, theirs = _landing(given)
    if not theirs:
        try:
            end: os.stat_result | None = landing.stat()
        except FileNotFoundError:  # a dangling link of ours: its target is created
            end = None
        if end and stat.S_ISDIR(end.st_mode):
            raise IsADirectoryError(
                errno.EISDIR, "is a folder; give a file name such as jupyter.conf"
            )
        proc = landing.parts[1:2] == ("proc",)  # /dev/stdout: this process's own fd
        if end and (stat.S_ISFIFO(end.st_mode) or stat.S_ISCHR(end.st_mode) or proc):
            # /dev/stdout, a pipe, a terminal: write through, never replace (a file the shell
            # opened for stdout is appended to, as `>` and `>>` leave it). A named pipe
            # nothing reads would block open() forever: opened without blocking, refused then.
            # Another user's pipe or device (a FIFO planted in /tmp) hands them the config, and
            # what root then installs from that path is theirs: only this user's or root's.
            if not proc:
                _check_ancestors(landing.parent)
                _check_stream_owner(landing, end)
            append = os.O_APPEND if stat.S_ISREG(end.st_mode) else 0
            try:
                fd = os.open(landing, os.O_WRONLY | os.O_NONBLOCK | append)
            except OSError as e:
                if e.errno == errno.ENXIO:
                    raise OSError(
                        errno.ENXIO, "is a named pipe (FIFO) that nothing reads"
                    ) from None
                raise
            with os.fdopen(fd, "w") as out:
                if not proc:
                    _check_stream_owner(landing, os.fstat(fd))  # what was opened, not a swap
                os.set_blocking(fd, True)
                out.write(text)
            return
    target = landing
    try:
        old: os.stat_result | None = target.lstat()
    except FileNotFoundError:
        old = None
    if old and not stat.S_ISREG(old.st_mode) and not stat.S_ISLNK(old.st_mode):
        raise UnsafeOutput(f"is {kind_of(old.st_mode)}; give a file name such as jupyter.conf")
    _check_ancestors(target.parent)
    umask = os.umask(0)
    os.umask(umask)
    ours = old is not None and stat.S_ISREG(old.st_mode) and old.st_uid == os.geteuid()
    # Another user's file may be 0666: the new one takes the default mode instead of theirs.
    mode = stat.S_IMODE(old.st_mode) if old and ours else 0o666 & ~umask
    # The suffix keeps a leftover out of nginx's `include conf.d/*.conf`.
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except PermissionError as e:
        # The file may be writable while its folder is not: the new file is made in the folder.
        raise PermissionError(
            e.errno, f"cannot create a file in the folder {target.parent} ({e.strerror})"
        ) from None
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        tmp.chmod(mode)
        # rename() replaces the name itself: a symlink there is replaced, not followed.
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
