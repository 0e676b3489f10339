"""Core layers against Keras: outputs from the same weights, config keys, and initialiser
statistics (the random draws differ; the distributions must not)."""

import inspect

import keras
import numpy as np
import pytest

import minikeras

RNG = np.random.default_rng(0)


def _same_layer_outputs(make, x, **call_kwargs):
    reference, ours = make(keras), make(minikeras)
    expected = np.asarray(reference(x, **call_kwargs))
    if reference.weights:
        ours.build(x.shape)
        ours.set_weights([np.asarray(w) for w in reference.get_weights()])
    np.testing.assert_allclose(ours(x, **call_kwargs), expected, rtol=1e-5, atol=1e-6)
    return reference, ours


@pytest.mark.parametrize("make, shape", [
    (lambda k: k.layers.Dense(5, activation="relu"), (4, 3)),
    (lambda k: k.layers.Dense(5, activation="softmax", use_bias=False), (2, 6, 3)),
    (lambda k: k.layers.Flatten(), (2, 3, 4, 2)),
    (lambda k: k.layers.Flatten(data_format="channels_first"), (2, 3, 4, 2)),
    (lambda k: k.layers.Reshape((-1, 4)), (2, 3, 4, 2)),
    (lambda k: k.layers.Activation("tanh"), (3, 5)),
    (lambda k: k.layers.Dropout(0.5, seed=1), (3, 5)),
], ids=["dense", "dense_rank3_softmax", "flatten", "flatten_cf", "reshape", "activation",
        "dropout_inference"])
def test_layer_outputs_match_keras(make, shape):
    _same_layer_outputs(make, RNG.normal(size=shape).astype("float32"))


@pytest.mark.parametrize("make", [
    lambda k: k.layers.Dense(3, activation="relu", kernel_regularizer="l2"),
    lambda k: k.layers.Dropout(0.3, seed=2),
    lambda k: k.layers.Flatten(),
    lambda k: k.layers.Reshape((2, 3)),
    lambda k: k.layers.Activation("sigmoid"),
], ids=["dense", "dropout", "flatten", "reshape", "activation"])
def test_config_keys_match_keras(make):
    ours = set(make(minikeras).get_config())
    theirs = set(make(keras).get_config()) - {"quantization_config", "lora_rank", "lora_alpha"}
    assert theirs <= ours | {"dtype"}, theirs - ours


def test_dense_weight_names_and_shapes_match_keras():
    reference = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4),
                                  keras.layers.Dense(2, use_bias=False)])
    ours = minikeras.Sequential([minikeras.Input((3,)), minikeras.layers.Dense(4),
                                 minikeras.layers.Dense(2, use_bias=False)])
    assert [(w.name, w.shape) for w in ours.weights] == [
        (w.name, tuple(w.shape)) for w in reference.weights]


@pytest.mark.parametrize("name", ["glorot_uniform", "glorot_normal", "he_normal",
                                  "he_uniform", "lecun_normal", "lecun_uniform",
                                  "random_normal", "random_uniform", "truncated_normal",
                                  "orthogonal"])
def test_initializer_statistics_match_keras(name):
    shape = (300, 200)
    theirs = np.asarray(keras.initializers.get(name)(shape))
    ours = minikeras.initializers.get(name)(shape)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    assert ours.std() == pytest.approx(theirs.std(), rel=0.03)
    assert ours.mean() == pytest.approx(theirs.mean(), abs=float(0.03 * theirs.std()))
    # Extremes of 60,000 draws fluctuate by several percent from run to run.
    assert ours.max() == pytest.approx(theirs.max(), rel=0.3)
    assert ours.min() == pytest.approx(theirs.min(), rel=0.3)


@pytest.mark.parametrize("path", [
    "layers.Dense.__init__", "layers.Dropout.__init__", "layers.Flatten.__init__",
    "layers.Reshape.__init__", "layers.Activation.__init__", "layers.InputLayer.__init__",
    "Input", "Sequential.__init__", "Sequential.compile", "Sequential.fit",
    "Sequential.evaluate", "Sequential.predict", "Sequential.train_on_batch",
    "Sequential.test_on_batch", "Sequential.predict_on_batch", "Sequential.get_layer",
    "Sequential.summary",
])
def test_signatures_match_keras(path):
    """Same parameter names, in the same order, with the same defaults."""
    def signature(module):
        obj = module
        for part in path.split("."):
            obj = getattr(obj, part)
        return [(p.name, p.default) for p in inspect.signature(obj).parameters.values()
                if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]

    assert signature(minikeras) == signature(keras)
