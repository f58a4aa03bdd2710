"""A folder of this user alone, for files another user must neither read nor replace:
the work cache keeps the bank and HTML that goes into cards as it is (``exporter.state.workcache``).
Opening one that is not ours alone is a ``PermissionError``, which its users take as "no
cache here"."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

_POSIX = hasattr(os, "getuid") and os.open in os.supports_dir_fd


class PrivateFolder:
    """A folder opened for one use and checked to be a real folder of this user alone
    (owned by this user, writable by no one else, not a link), made readable by no one
    else; files in it are opened through the folder's descriptor, never following links.
    Off POSIX (Windows) the folder is used by path, as the user's profile protects it."""

    def __init__(self, path: Path, create: bool) -> None:
        self.path = path
        self.fd = -1
        if create:
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if _POSIX:
            flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
            self.fd = os.open(path, flags)
            info = os.fstat(self.fd)
            if info.st_uid != os.getuid() or info.st_mode & 0o022:
                os.close(self.fd)
                raise PermissionError(f"{path}: not a folder of this user alone")
            if info.st_mode & 0o077:
                os.fchmod(self.fd, 0o700)  # nor readable by others: it holds the bank

    def __enter__(self) -> PrivateFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd >= 0:
            os.close(self.fd)

    def _open(self, name: str, flags: int, mode: int = 0o600) -> int:
        if self.fd < 0:
            return os.open(self.path / name, flags, mode)
        return os.open(name, flags | os.O_NOFOLLOW, mode, dir_fd=self.fd)

    def read(self, name: str) -> bytes:
        with os.fdopen(self._open(name, os.O_RDONLY), "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise OSError(f"{name}: not a regular file")
            return f.read()

    def write(self, name: str, tmp: str, data: bytes) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        with os.fdopen(self._open(tmp, flags), "wb") as f:
            f.write(data)
        if self.fd < 0:
            os.replace(self.path / tmp, self.path / name)
        else:
            os.rename(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def names(self) -> list[str]:
        if self.fd < 0:
            return [e.name for e in os.scandir(self.path)]
        return os.listdir(self.fd)

    def older(self, name: str, limit: float) -> bool:
        try:
            if self.fd < 0:
                return os.stat(self.path / name, follow_symlinks=False).st_mtime < limit
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False).st_mtime < limit
        except OSError:
            return False

    def remove(self, name: str) -> None:
        with contextlib.suppress(OSError):
            if self.fd < 0:
                os.unlink(self.path / name)
            else:
                os.unlink(name, dir_fd=self.fd)

    def touch(self, now: float) -> None:
        os.utime(self.fd if self.fd >= 0 else self.path, (now, now))


def private_folder(path: Path, create: bool = True) -> PrivateFolder:
    return PrivateFolder(path, create)
