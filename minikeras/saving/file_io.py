"""Writing a file so that a crash never leaves half of it behind.

    write everything to a temporary file beside the target   (same directory, same disk)
    flush and fsync it                                       (the bytes are on disk)
    os.replace(temporary, target)                            (atomic: old file or new file)

If anything fails before the replace, the temporary file is deleted and the previous file at
the target path is untouched; the error names the target, never the temporary.

A process killed during a save cannot delete its temporary. Temporaries are named
`.NAME.<pid>.<random>.tmp` (NAME: the target's file name, pid: the saving process), so the
next save to the same path deletes those whose process no longer runs. A temporary whose
process still runs (another save in progress) is left alone. (On a network file system shared
between machines, a pid from another machine can look dead: that save then fails at its
os.replace, loudly, and the file at the target is still whole.)
"""

import contextlib
import os
import re
import sys
import tempfile


@contextlib.contextmanager
def atomic_write(filepath):
    """`with atomic_write(path) as f:` gives a binary file; `path` appears only on success."""
    filepath = os.fspath(filepath)
    directory = os.path.dirname(os.path.abspath(filepath))
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"Cannot save to {filepath!r}: the directory {directory!r} does not exist."
        )
    if os.path.isdir(filepath):
        raise IsADirectoryError(f"Cannot save to {filepath!r}: it is a directory.")
    name = os.path.basename(filepath)
    remove_stale_temporaries(directory, name)
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{name}.{os.getpid()}.", suffix=".tmp",
                                         dir=directory)
    except OSError as error:            # its message names the temporary it tried to create
        raise _about_target(error, filepath, error.filename) from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, _file_mode(filepath))
        os.replace(temporary, filepath)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise _about_target(error, filepath, temporary) from None
        raise
    _fsync_directory(directory)


def _about_target(error, filepath, temporary):
    """The same OSError, naming the file the user asked for instead of our temporary (or
    naming it at all: a failed write or fsync names no file)."""
    if error.errno is None or error.filename not in (None, temporary):
        return error                    # not about our file: leave it as it is
    return OSError(error.errno, error.strerror, filepath)   # PermissionError, ... by errno


def remove_stale_temporaries(directory, name):
    """Deletes `.NAME.<pid>.<random>.tmp` files in `directory` left by killed saves."""
    if os.name != "posix":
        return                  # os.kill(pid, 0) below would end the process on Windows
    pattern = re.compile(re.escape(f".{name}.") + r"(\d+)\.\w+\.tmp")
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        match = pattern.fullmatch(entry)
        if match and not _process_running(int(match.group(1))):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, entry))


def _process_running(pid):
    if pid == os.getpid():
        return True             # another save in this process, maybe in another thread
    try:
        os.kill(pid, 0)         # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:
        return True             # it exists but belongs to someone else, or we cannot tell
    return True


def _file_mode(filepath):
    """Keep the mode of the file being replaced; else what open() would give."""
    if os.path.exists(filepath):
        return os.stat(filepath).st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_directory(directory):
    """Makes the rename itself durable (POSIX); best effort elsewhere."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def confirm_overwrite(filepath):
    """With overwrite=False and an existing file: ask on a terminal, refuse otherwise.

    Returns True to go ahead, False if the user said no.
    """
    if sys.stdin is not None and sys.stdin.isatty():
        answer = input(f"[WARNING] {filepath} already exists - overwrite? [y/n] ")
        while answer.strip().lower() not in ("y", "n"):
            answer = input('Enter "y" (overwrite) or "n" (cancel). ')
        return answer.strip().lower() == "y"
    raise FileExistsError(
        f"{filepath!r} already exists and overwrite=False. Pass overwrite=True to replace it."
    )
