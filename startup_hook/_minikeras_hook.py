"""Start-up hook of minikeras, imported by ``minikeras_hook.pth`` when KERAS_BACKEND=minikeras.

Both files are installed at the top of site-packages (see pyproject.toml). Python's `site` runs
the .pth line at every start-up; that line checks the environment variable itself and imports this
module only when it says ``minikeras``.

This module imports neither minikeras nor NumPy. It puts a placeholder finder in front of
``sys.meta_path``; the first time the program imports ``keras`` or ``tensorflow``, the placeholder
imports minikeras, calls ``minikeras.install()`` and hands the import over to minikeras's own
finder. Waiting until then keeps start-up cheap, and by then every .pth file has been processed,
so NumPy is importable wherever it is installed (the .pth files run in alphabetical order, and
some add the directories other packages live in).
"""

import sys

_ROOTS = ("keras", "tensorflow")


class DeferredKerasFinder:
    """Placeholder meta path finder: installs the minikeras aliasing on the first keras import."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _ROOTS:
            return None
        try:
            from minikeras._aliasing import KerasAliasFinder, install
        except ImportError as exc:
            raise ImportError(
                f"KERAS_BACKEND=minikeras is set, but minikeras could not be imported to stand "
                f"in for {fullname!r}: {exc}",
                name=fullname,
            ) from exc
        install()
        # The placeholder has done its job; minikeras's finder now sits first in sys.meta_path.
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, DeferredKerasFinder)]
        alias_finder = next(f for f in sys.meta_path if isinstance(f, KerasAliasFinder))
        return alias_finder.find_spec(fullname, path, target)


# Idempotent: some interpreters process the same site-packages twice (lib and lib64).
if not any(type(f).__name__ == "DeferredKerasFinder" for f in sys.meta_path):
    sys.meta_path.insert(0, DeferredKerasFinder())
