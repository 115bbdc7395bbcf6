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


def _check_folder_links(path: Path) -> None:
    """Refuse a symlink of another user among the folders of ``path`` (they choose the target)."""
    for parent in reversed(path.parents):
        try:
            st = parent.lstat()
        except FileNotFoundError:
            return  # the write fails with "No such file or directory"
        if stat.S_ISLNK(st.st_mode) and not _trusted_owner(st.st_uid):
            raise UnsafeOutput(
                f"{parent} is a symlink of {_who(st.st_uid)}, who chooses where it leads; give "
                "the real path"
            )


def write_atomically(path: str, text: str) -> None:
    """Replace the file at ``path`` with a new file of this user holding ``text``, in one step.

    A failure (no such folder, no permission, disk full) leaves an existing file as it was: a
    half-written file in /etc/nginx would stop nginx at its next start. The new file always
    belongs to the user running the command, never to the previous file's owner. A symlink of
    this user or root (Debian's sites-enabled -> sites-available) is followed and its target
    replaced; a symlink of anyone else is itself replaced by the new file, never followed. A
    folder someone else could write into (without the sticky bit), or a symlink of someone
    else among the folders, is refused (UnsafeOutput). A pipe or a terminal (``--output
    /dev/stdout``) is written to, not replaced.
    """
    given = Path(path).absolute()
    _check_folder_links(given)
    try:
        link: os.stat_result | None = given.lstat()
    except FileNotFoundError:
        link = None
    follow = link is not None and stat.S_ISLNK(link.st_mode) and _trusted_owner(link.st_uid)
    if link is not None and (follow or not stat.S_ISLNK(link.st_mode)):
        try:
            end = given.stat()
        except FileNotFoundError:  # a dangling link of ours: its target is created
            end = None
        if end and stat.S_ISDIR(end.st_mode):
            raise IsADirectoryError(
                errno.EISDIR, "is a folder; give a file name such as jupyter.conf"
            )
        if end and (stat.S_ISFIFO(end.st_mode) or stat.S_ISCHR(end.st_mode)):
            # /dev/stdout, a pipe, a terminal: write through, never replace. A named pipe
            # nothing reads would block open() forever: opened without blocking, refused then.
            try:
                fd = os.open(given, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno == errno.ENXIO:
                    raise OSError(
                        errno.ENXIO, "is a named pipe (FIFO) that nothing reads"
                    ) from None
                raise
            os.set_blocking(fd, True)
            with os.fdopen(fd, "w") as out:
                out.write(text)
            return
    target = Path(os.path.realpath(given)) if follow else given
    try:
        old: os.stat_result | None = target.lstat()
    except FileNotFoundError:
        old = None
    if old and not stat.S_ISREG(old.st_mode) and not stat.S_ISLNK(old.st_mode):
        raise UnsafeOutput(f"is {kind_of(old.st_mode)}; give a file name such as jupyter.conf")
    check_folder(target.parent)
    umask = os.umask(0)
    os.umask(umask)
    ours = old is not None and stat.S_ISREG(old.st_mode) and old.st_uid == os.geteuid()
    # Another user's file may be 0666: the new one takes the default mode instead of theirs.
    mode = stat.S_IMODE(old.st_mode) if old and ours else 0o666 & ~umask
    # The suffix keeps a leftover out of nginx's `include conf.d/*.conf`.
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
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
