"""Make ``import keras`` (and ``tensorflow.keras``) resolve to minikeras.

``install()`` puts an import finder at the front of ``sys.meta_path``. From then on:

- every ``keras.<a>.<b>`` resolves to ``minikeras.<a>.<b>``: the very same module objects, so
  ``keras.layers is minikeras.layers``. The mapping is by name, so a submodule added to minikeras
  later is reachable through ``keras`` without any change here.
- ``keras`` itself is a thin stand-in for the ``minikeras`` package: every attribute is
  minikeras's own (``keras.Sequential is minikeras.Sequential``), except ``__version__``, which
  is a Keras 3 version saying it is minikeras (KERAS_VERSION, e.g. "3.15.1+minikeras.0.1.0"),
  so that scripts checking for Keras 3 read it right while ``minikeras.__version__`` stays the
  package's own.
- ``tensorflow`` resolves to minikeras's TensorFlow stand-in (minikeras/tf_standin/: version,
  seeding, tensors, GradientTape, tf.data...), ``tensorflow.<a>`` to its module ``<a>``;
  ``tensorflow.keras`` and ``tensorflow.keras.<a>`` resolve like ``keras`` and ``keras.<a>``.
- Any other use of TensorFlow fails loudly: ``import tensorflow.io`` raises ImportError and
  ``tf.distribute`` raises AttributeError, both naming what is missing and saying that
  minikeras provides Keras plus the TensorFlow subset README.md lists.

Nothing is imported eagerly: a ``keras.<name>`` module is imported the first time the script asks
for it, exactly as with real Keras.
"""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

_TARGET = "minikeras"
# The Keras release whose API minikeras follows: the one compat_tests/ run against.
KERAS_API_VERSION = "3.15.1"
# The top-level names served by the finder, and the prefix each maps onto in minikeras
# (checked in this order: tensorflow.keras before the rest of tensorflow).
_TENSORFLOW = "tensorflow"
_TF_STANDIN = _TARGET + ".tf_standin"
_KERAS_ROOTS = {"keras": _TARGET, "tensorflow.keras": _TARGET, _TENSORFLOW: _TF_STANDIN}

__all__ = ["KERAS_VERSION", "install", "is_installed"]


def _keras_version():
    """The Keras API release with minikeras's version as a PEP 440 local label."""
    from minikeras import __version__

    return f"{KERAS_API_VERSION}+minikeras.{__version__}"


KERAS_VERSION = _keras_version()


def _alias_target(fullname):
    """Return the minikeras module name that `fullname` stands for, or None if it is not ours.

    >>> _alias_target("tensorflow.keras.layers")
    'minikeras.layers'
    """
    for root, target in _KERAS_ROOTS.items():
        if fullname == root:
            return target
        if fullname.startswith(root + "."):
            return target + fullname[len(root) :]
    return None


class _KerasStandIn(types.ModuleType):
    """What ``import keras`` (and ``tensorflow.keras``) returns: minikeras under Keras's version.

    Only the module's own bookkeeping (``__version__``, ``__path__``, ``__spec__``...) lives
    here; every other attribute is read from and written to the minikeras package itself, so the
    two never disagree.
    """

    def __init__(self):
        target = importlib.import_module(_TARGET)
        super().__init__(_TARGET, target.__doc__)
        self.__dict__["_target"] = target
        self.__dict__["__version__"] = KERAS_VERSION
        # A package whose submodules are minikeras's (the finder maps them by name).
        self.__dict__["__path__"] = list(target.__path__)
        self.__dict__["__file__"] = target.__file__

    def __getattr__(self, name):
        # Only called for what is not set above.
        return getattr(self._target, name)

    def __setattr__(self, name, value):
        # The import system records __spec__, __loader__... here, and sets each imported
        # submodule (`keras.layers`) as an attribute: the latter goes to minikeras, as it
        # would without the stand-in.
        if name.startswith("__") and name.endswith("__"):
            self.__dict__[name] = value
        else:
            setattr(self._target, name, value)

    def __dir__(self):
        return sorted(set(dir(self._target)) | {"__version__"})

    def version(self):
        """Keras's `keras.version()`: the same string as `__version__`."""
        return KERAS_VERSION

    def __repr__(self):
        return (f"<module 'keras' (minikeras {self._target.__version__}, "
                f"Keras API {KERAS_API_VERSION})>")


_keras_stand_in = None


def _keras_module():
    """The one stand-in `keras` and `tensorflow.keras` both resolve to."""
    global _keras_stand_in
    if _keras_stand_in is None:
        _keras_stand_in = _KerasStandIn()
    return _keras_stand_in


class _KerasLoader(importlib.abc.Loader):
    """Loads ``keras`` / ``tensorflow.keras`` as the stand-in for the minikeras package."""

    def create_module(self, spec):
        return _keras_module()

    def exec_module(self, module):
        pass


class _AliasLoader(importlib.abc.Loader):
    """Loads an alias name (``keras.layers``) as the existing minikeras module it stands for."""

    def __init__(self, target):
        self.target = target
        self._target_spec = None

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        # The import system is about to overwrite module.__spec__ with the alias spec; keep the
        # real one so exec_module can put it back (reload, pickling and -m rely on it).
        self._target_spec = module.__spec__
        return module

    def exec_module(self, module):
        # The module was executed when it was imported under its own name: only undo the
        # spec overwrite here.
        module.__spec__ = self._target_spec


class KerasAliasFinder(importlib.abc.MetaPathFinder):
    """Meta path finder mapping ``keras`` / ``tensorflow`` imports onto minikeras."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith(_TF_STANDIN + "."):
            # `from tensorflow import saved_model` looks for the submodule under the stand-in's
            # own name: a missing one gets the stand-in's message, not "cannot import name".
            if importlib.machinery.PathFinder.find_spec(fullname, path) is None:
                _refuse("tensorflow" + fullname[len(_TF_STANDIN):])
            return None
        target_name = _alias_target(fullname)
        if target_name is None:
            return None
        spec = self._alias_spec(fullname, target_name)
        if spec is None and target_name.startswith(_TF_STANDIN + "."):
            _refuse(fullname)
        return spec

    @staticmethod
    def _alias_spec(fullname, target_name):
        # Locating the target imports its parent packages (already imported, since the alias's
        # own parent is one of them) but does not execute the target itself.
        target_spec = importlib.util.find_spec(target_name)
        if target_spec is None:
            # No such minikeras module: let the import fail with the usual
            # "No module named 'keras.<name>'".
            return None
        loader = _KerasLoader() if target_name == _TARGET else _AliasLoader(target_name)
        return importlib.machinery.ModuleSpec(
            fullname,
            loader,
            origin=target_spec.origin,
            is_package=target_spec.submodule_search_locations is not None,
        )


def _refuse(fullname):
    from minikeras.tf_standin._common import SUBSET_NOTE

    raise ImportError(f"No module named {fullname!r}: {SUBSET_NOTE}", name=fullname)


def _is_ours(module):
    """True if `module` is a minikeras module or the keras stand-in (i.e. not real Keras)."""
    if isinstance(module, _KerasStandIn):
        return True
    name = getattr(module, "__name__", "")
    return name == _TARGET or name.startswith(_TARGET + ".")


def _real_imports():
    """Names of already-imported modules that belong to the real keras or tensorflow."""
    found = []
    for name, module in list(sys.modules.items()):
        root = name.partition(".")[0]
        if root in ("keras", _TENSORFLOW) and module is not None and not _is_ours(module):
            found.append(name)
    return sorted(found)


def is_installed():
    """Return True if the keras/tensorflow aliasing is active in this interpreter."""
    return any(isinstance(finder, KerasAliasFinder) for finder in sys.meta_path)


def install():
    """Make ``keras`` and ``tensorflow.keras`` imports resolve to minikeras in this interpreter.

    Call it before the script's first ``import keras``. Calling it again does nothing.

    Raises:
        RuntimeError: if the real Keras or TensorFlow was already imported in this interpreter
            (the script would otherwise mix real Keras objects with minikeras ones).
    """
    if is_installed():
        return
    already = _real_imports()
    if already:
        module = sys.modules[already[0]]
        where = getattr(module, "__file__", None) or "an unknown location"
        raise RuntimeError(
            "minikeras.install() must run before Keras or TensorFlow is imported, but the real "
            f"{already[0]!r} is already imported (from {where}; {len(already)} keras/tensorflow "
            "modules loaded in all). Call minikeras.install() first, start the script with "
            "`minikeras run SCRIPT`, or set KERAS_BACKEND=minikeras."
        )
    sys.meta_path.insert(0, KerasAliasFinder())


def uninstall():
    """Undo install(): remove the finder and forget the keras/tensorflow aliases.

    Modules that the script already holds keep working; new imports of keras/tensorflow go to
    the real packages again. Meant for tools and tests that need both in one interpreter.
    """
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, KerasAliasFinder)]
    for name, module in list(sys.modules.items()):
        root = name.partition(".")[0]
        if root in ("keras", _TENSORFLOW) and module is not None and _is_ours(module):
            del sys.modules[name]
