"""Writing a file so that a crash never leaves half of it behind.

    write everything to a temporary file beside the target   (same directory, same disk)
    flush and fsync it                                       (the bytes are on disk)
    os.replace(temporary, target)                            (atomic: old file or new file)

If anything fails before the replace, the temporary file is deleted and the previous file at
the target path is untouched.
"""

import contextlib
import os
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
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(filepath)}.",
                                     suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, _file_mode(filepath))
        os.replace(temporary, filepath)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


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
