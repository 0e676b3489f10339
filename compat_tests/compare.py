"""Helpers to run the same model definition on Keras and on minikeras and compare them."""

import keras
import numpy as np

import minikeras


def build_pair(build, seed=0, floatx="float32"):
    """Builds `build(module)` with keras and with minikeras, copying Keras's initial weights
    into the minikeras model. Returns (keras_model, minikeras_model)."""
    keras.config.set_floatx(floatx)
    # Once any Keras layer exists, new layers follow the dtype policy rather than floatx.
    keras.config.set_dtype_policy(floatx)
    minikeras.backend.set_floatx(floatx)
    keras.utils.set_random_seed(seed)
    reference = build(keras)
    ours = build(minikeras)
    ours.set_weights(reference.get_weights())
    return reference, ours


def fit_both(reference, ours, x, y, compile_kwargs, **fit_kwargs):
    """Compiles both models alike and fits both with shuffle=False. Returns both Histories."""
    fit_kwargs.setdefault("verbose", 0)
    fit_kwargs["shuffle"] = False
    reference.compile(**_for(keras, compile_kwargs))
    ours.compile(**_for(minikeras, compile_kwargs))
    ref_history = reference.fit(x, y, **fit_kwargs).history
    our_history = ours.fit(x, y, **fit_kwargs).history
    return ref_history, our_history


def _for(module, compile_kwargs):
    """compile kwargs, calling each value marked with @per_module on the module."""
    return {key: value(module) if getattr(value, "_per_module", False) else value
            for key, value in compile_kwargs.items()}


def per_module(fn):
    """Marks a lambda `lambda k: k.optimizers.Adam(...)` to be called with each module."""
    fn._per_module = True
    return fn


def assert_histories_close(ref, ours, rtol=1e-4, atol=1e-6):
    """Same keys, and every per-epoch value within rtol (relative) of Keras's."""
    assert sorted(ref) == sorted(ours), (sorted(ref), sorted(ours))
    for key in ref:
        np.testing.assert_allclose(ours[key], ref[key], rtol=rtol, atol=atol,
                                   err_msg=f"History key {key!r} differs")


def two_circles(n=1000, noise=0.1, seed=0):
    """Two noisy concentric circles, labels 0 (outer) and 1 (inner)."""
    rng = np.random.default_rng(seed)
    angles = rng.uniform(0, 2 * np.pi, n)
    labels = rng.integers(0, 2, n)
    radius = np.where(labels == 1, 0.5, 1.0)
    x = np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)
    x += rng.normal(0, noise, x.shape)
    return x.astype("float32"), labels.astype("float32")


def two_circles_model(k, activation="relu"):
    """The reference example's model, built with module k (keras or minikeras)."""
    return k.Sequential([
        k.layers.Dense(4, input_dim=2, activation=activation),
        k.layers.Dense(6, activation=activation),
        k.layers.Dense(6, activation=activation),
        k.layers.Dense(4, activation=activation),
        k.layers.Dense(1, activation="sigmoid"),
    ])
