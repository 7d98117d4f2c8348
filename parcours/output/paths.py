"""What parcours may write at an output path, decided once, here, for every verb.

parcours only ever replaces what it wrote itself: a run directory (``simulate --out``), a report
(``report``/``compare -o``), an empty results folder (``replay --out``). Anything else found at an
output path (a device such as /dev/null, a FIFO, a symbolic link, a directory that is not a run, a
file of the user's, a file inside a run) is refused with a one-line error naming the argument and the
path, before any work is done and again just before the output is moved into place. A run directory
being written is locked, so a second writer into the same ``--out`` fails instead of replacing it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

from parcours.errors import RunDirError

MANIFEST = "run.json"
EVENTS_DIR = "events"
CUSTOMERS_DIR = "customers"  # customers/part-NNNNN.parquet, one per shard
JOURNEYS_DIR = "journeys"  # journeys/part-NNNNN.parquet, one per shard
CUSTOMERS = "customers.parquet"  # the single file of runs written before the parts (read, never written)
JOURNEYS = "journeys.parquet"
REPLAYS_DIR = "replays"
#: The run's own entries: never a place for another output.
RUN_NAMES = (MANIFEST, EVENTS_DIR, CUSTOMERS_DIR, JOURNEYS_DIR, CUSTOMERS, JOURNEYS, REPLAYS_DIR)
#: How a file parcours writes begins (read from its first KiB): report/pages/html.py and jsondoc.py.
PARCOURS_FILE_MARKERS = (
    b"<title>parcours report: ",
    b"<title>parcours compare: ",
    b"<title>parcours explain: ",  # strategy/page.py
    b'{\n  "format_version": ',
    b"parcours realism: ",
    b'{\n  "parcours_realism": ',
)
_HEAD_BYTES = 1024

Check = Callable[[Path], bool]


def is_run(path: Path) -> bool:
    return (path / MANIFEST).is_file()


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return path.lstat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RunDirError(f"{path}: cannot look at it ({exc.strerror})") from None


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a directory" if stat.S_ISDIR(mode) else "a file"


def written_by_parcours(path: Path) -> bool:
    """A regular file (not a link) that begins as a parcours report or JSON document does."""
    st = _lstat(path)
    if st is None or not stat.S_ISREG(st.st_mode):
        return False
    try:
        with path.open("rb") as f:
            head = f.read(_HEAD_BYTES)
    except OSError:
        return False
    return any(marker in head for marker in PARCOURS_FILE_MARKERS)


def enclosing_run(path: Path) -> Path | None:
    """The run directory ``path`` lies in (``path`` itself not counted), following links above it."""
    for folder in (parent := path.absolute().parent.resolve(), *parent.parents):
        if is_run(folder):
            return folder
    return None


def _refuse(arg: str, path: Path, problem: str) -> RunDirError:
    return RunDirError(f"{arg}: {path} {problem}")


def check_run_out(out: Path, *, overwrite: bool, arg: str = "--out") -> None:
    """Refuse a run directory's path unless it is free, an empty directory or (with overwrite) a run."""
    if out.name in ("", ".", ".."):
        raise _refuse(arg, out, "names no directory of its own; give the run a name, as runs/demo")
    st = _lstat(out)
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise _refuse(
            arg, out, f"is {_kind(st.st_mode)}, not a run directory; parcours replaces only its own runs"
        )
    holder = enclosing_run(out)
    if holder is not None:
        raise _refuse(arg, out, f"is inside the run {holder}; choose a path outside it")
    if st is not None and is_run(out):
        if not overwrite:
            raise _refuse(arg, out, "is a run already; pass --overwrite to replace it")
        foreign = foreign_entries(out)
        if foreign:
            raise _refuse(
                "--overwrite", out / foreign[0], "was not written by parcours; move it out of the run first"
            )
    elif st is not None and _not_empty(out):
        raise _refuse(arg, out, "is a directory that is not a parcours run; choose another path")
    _check_parent(out)


def _not_empty(folder: Path) -> bool:
    try:
        return any(folder.iterdir())
    except OSError as exc:
        raise RunDirError(f"{folder}: cannot list it ({exc.strerror})") from None


def _check_parent(out: Path, *, create: bool = True) -> None:
    parent = out.absolute().parent
    if not parent.exists() and not create:
        raise RunDirError(f"{parent}: no such directory")
    if not parent.exists():
        try:
            parent.mkdir(parents=True)
        except OSError as exc:
            raise RunDirError(
                f"{parent}: cannot create the output's parent directory ({exc.strerror})"
            ) from None
    if not parent.is_dir():
        raise RunDirError(f"{parent}: not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise RunDirError(f"{parent}: not writable")


def foreign_entries(run: Path) -> list[str]:
    """Top-level entries of a run that parcours did not write (it writes its parts, replays, reports)."""
    return sorted(p.name for p in run.iterdir() if p.name not in RUN_NAMES and not written_by_parcours(p))


def overwrite_notice(run: Path) -> str:
    """One line: what replacing the run at ``run`` removes with it."""
    parts = len(list((run / EVENTS_DIR).glob("*.parquet")))
    replays = len(list((run / REPLAYS_DIR).iterdir())) if (run / REPLAYS_DIR).is_dir() else 0
    extra = sorted(p.name for p in run.iterdir() if p.name not in RUN_NAMES)
    goes = [f"{MANIFEST}, {EVENTS_DIR}/ ({parts} part(s)), {CUSTOMERS_DIR}/, {JOURNEYS_DIR}/"]
    if replays:
        goes.append(f"{REPLAYS_DIR}/ ({replays} replay(s))")
    goes += extra
    return f"--overwrite: replacing the run at {run} with the new one; removed with it: {', '.join(goes)}"


def check_file_out(out: Path, *, arg: str = "--out") -> None:
    """Refuse a report's path unless it is free or a file parcours wrote, and not one of a run's own."""
    st = _lstat(out)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise _refuse(arg, out, "is a directory; give a file name")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise _refuse(arg, out, f"is {_kind(st.st_mode)}, not a file parcours wrote; choose another path")
    holder = enclosing_run(out)
    if holder is not None and out.absolute().parent.resolve() != holder:
        raise _refuse(
            arg, out, f"is inside the run {holder}; write a report beside its files, not among them"
        )
    if holder is not None and out.name in RUN_NAMES:
        raise _refuse(arg, out, f"is one of the run's own files (run {holder}); choose another name")
    if st is not None and not written_by_parcours(out):
        raise _refuse(
            arg, out, "exists and is not a file parcours wrote; choose another path or move it away"
        )
    _check_parent(out, create=False)


def check_results_out(out: Path, *, arg: str = "--out") -> None:
    """Refuse a replay's results folder unless it is free or an empty directory, outside a run's data."""
    st = _lstat(out)
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise _refuse(arg, out, f"is {_kind(st.st_mode)}, not a folder for the replay's results")
    if st is not None and _not_empty(out):
        raise _refuse(arg, out, "exists and is not empty")
    holder = enclosing_run(out)
    if holder is not None and not out.absolute().parent.resolve().is_relative_to(holder / REPLAYS_DIR):
        raise _refuse(
            arg, out, f"is inside the run {holder}; results go under {holder / REPLAYS_DIR} or outside"
        )


#: What a lock file holds: the pid of the process that made it, and nothing else.
_LOCK_TEXT = re.compile(rb"\d{1,10}\n")


class OutLock:
    """A lock on an output path while it is written (exclusive) or read by a replay (shared):
    ``.NAME.parcours-lock`` beside it.

    The lock is ``flock`` on that file, so it goes with the process however it ends; a file left by a
    killed writer is simply locked again by the next one. The file is only ever one parcours made,
    holding its pid from the moment it appears (written under another name, then linked into place);
    anything else at that path (a user's file, a FIFO, a link) is refused and left alone.
    """

    def __init__(self, out: Path, *, arg: str = "--out", shared: bool = False) -> None:
        self.out = out
        self.arg = arg
        self.shared = shared
        self.path = out.absolute().parent / f".{out.name}.parcours-lock"
        self.fd: int | None = None

    def acquire(self) -> OutLock:
        mode = fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX
        while self.fd is None:
            fd = self._open()
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise RunDirError(f"{self.path}: cannot lock ({exc.strerror})") from None
                raise _refuse(
                    self.arg,
                    self.out,
                    "is being written or replayed by another parcours process; wait for it or choose "
                    "another path",
                ) from None
            if self._same_file(fd):  # else its holder removed it on release: lock the new one
                self.fd = fd
            else:
                os.close(fd)
        return self

    def _open(self) -> int:
        """The lock file: opened if there is one and it is ours, else made with our pid in it (written
        under another name, then linked into place, so that it never appears empty)."""
        while True:
            try:
                return self._open_existing()
            except FileNotFoundError:
                pass
            fd = self._make()
            if fd is not None:
                return fd

    def _make(self) -> int | None:
        made = self.path.with_name(f"{self.path.name}.{os.getpid()}")
        made.unlink(missing_ok=True)
        try:
            fd = os.open(made, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            raise RunDirError(f"{self.path}: cannot create the lock ({exc.strerror})") from None
        try:
            os.write(fd, f"{os.getpid()}\n".encode())
            os.link(made, self.path)
            return fd
        except FileExistsError:  # another process made one meanwhile
            os.close(fd)
            return None
        except OSError as exc:
            os.close(fd)
            raise RunDirError(f"{self.path}: cannot create the lock ({exc.strerror})") from None
        finally:
            made.unlink(missing_ok=True)

    def _open_existing(self) -> int:
        """The lock file there, if parcours made it (FileNotFoundError when there is none)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise self._foreign(f"cannot be opened as a lock ({exc.strerror})") from None
        st = os.fstat(fd)
        text = os.read(fd, 16) if stat.S_ISREG(st.st_mode) else b""
        if not stat.S_ISREG(st.st_mode) or not _LOCK_TEXT.fullmatch(text):
            os.close(fd)
            raise self._foreign(f"is {_kind(st.st_mode)} that parcours did not make")
        return fd

    def _foreign(self, problem: str) -> RunDirError:
        return RunDirError(
            f"{self.path}: {problem}; parcours keeps its lock for {self.out} there and removes only its "
            "own: move it away"
        )

    def _same_file(self, fd: int) -> bool:
        try:
            return os.stat(self.path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            return False

    def __enter__(self) -> OutLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """Unlock; the file goes too when no one else holds it (a shared holder checks first)."""
        if self.fd is None:
            return
        try:
            if self.shared:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # others still reading: keep it
            if self._same_file(self.fd):
                self.path.unlink(missing_ok=True)  # while still held: no one can lock the removed file
        except OSError:
            pass
        finally:
            os.close(self.fd)
            self.fd = None
