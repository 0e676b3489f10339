"""minikeras's public face is Keras's: the same names in the same modules.

Each public module's `__all__` must list only names that exist, and (minikeras extras aside)
only names Keras itself has in the same module, so a script written against minikeras also
runs on Keras.
"""

import importlib

import keras
import pytest

import minikeras

MODULES = ["activations", "backend", "callbacks", "config", "constraints", "initializers",
           "layers", "losses", "metrics", "models", "ops", "optimizers", "optimizers.schedules",
           "preprocessing", "preprocessing.sequence", "preprocessing.image", "datasets",
           "random", "regularizers", "saving", "utils"]

# Public names minikeras adds on purpose (they are not part of Keras).
EXTRAS = {
    "": {"install", "uninstall", "Variable", "ops"},
    "backend": {"backend", "cast_to_floatx", "get_uid", "unique_name", "standardize_dtype",
                "standardize_data_format", "set_epsilon", "set_floatx",
                "set_image_data_format"},
    "layers": set(),
    "utils": {"check_gradients", "trace_shapes", "plot_history", "plot_decision_boundary"},
    "callbacks": {"CallbackList"},
    "losses": {"reduce_weighted_values"},
    "saving": {"serialize_layer", "deserialize_layer"},
    # minikeras's gradient context for train_step overrides (README: "Custom training steps").
    "ops": {"GradientTape"},
}


def _module(root, name):
    return importlib.import_module(f"{root.__name__}.{name}") if name else root


@pytest.mark.parametrize("name", [""] + MODULES)
def test_every_exported_name_exists(name):
    module = _module(minikeras, name)
    exported = getattr(module, "__all__", None)
    assert exported, f"minikeras.{name} has no __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"minikeras.{name}.__all__ lists missing names: {missing}"


@pytest.mark.parametrize("name", [""] + MODULES)
def test_exported_names_are_keras_names(name):
    ours = _module(minikeras, name)
    theirs = _module(keras, name)
    not_in_keras = sorted(
        n for n in ours.__all__
        if not hasattr(theirs, n) and n not in EXTRAS.get(name, set()) and n != "__version__"
    )
    assert not not_in_keras, f"minikeras.{name} exports names Keras lacks: {not_in_keras}"


def test_names_real_scripts_use_exist():
    for path in ["models.Sequential", "models.Model", "layers.Dense", "layers.Input",
                 "layers.Dropout", "layers.Flatten", "layers.Activation", "layers.Reshape",
                 "Input", "Sequential", "optimizers.Adam", "optimizers.SGD",
                 "losses.BinaryCrossentropy", "metrics.BinaryAccuracy", "callbacks.History",
                 "utils.to_categorical", "utils.set_random_seed", "backend.floatx",
                 "config.set_floatx", "initializers.GlorotUniform", "regularizers.l2",
                 "constraints.MaxNorm"]:
        obj = minikeras
        for part in path.split("."):
            obj = getattr(obj, part)
        assert obj is not None
