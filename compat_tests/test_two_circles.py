"""The reference example against Keras: same start, same History, epoch by epoch."""

import numpy as np
import pytest

from compat_tests.compare import (
    assert_histories_close,
    build_pair,
    fit_both,
    per_module,
    two_circles,
    two_circles_model,
)

X, Y = two_circles(n=400)


def test_two_circles_adam_history_matches_keras():
    reference, ours = build_pair(two_circles_model)
    ref, got = fit_both(reference, ours, X, Y,
                        dict(loss="binary_crossentropy", optimizer="adam",
                             metrics=["accuracy"]),
                        epochs=20)
    assert_histories_close(ref, got)
    np.testing.assert_allclose(ours.predict(X, verbose=0), reference.predict(X, verbose=0),
                               rtol=1e-4, atol=1e-6)
    for a, b in zip(ours.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("optimizer", [
    "sgd",
    per_module(lambda k: k.optimizers.SGD(0.05, momentum=0.9)),
    per_module(lambda k: k.optimizers.SGD(0.05, momentum=0.9, nesterov=True)),
    per_module(lambda k: k.optimizers.Adam(0.01, amsgrad=True)),
    per_module(lambda k: k.optimizers.Adam(0.01, clipnorm=0.1)),
    per_module(lambda k: k.optimizers.Adam(0.01, clipvalue=0.01)),
    per_module(lambda k: k.optimizers.Adam(0.01, global_clipnorm=0.1)),
    per_module(lambda k: k.optimizers.Adam(0.01, weight_decay=0.05)),
], ids=["sgd", "momentum", "nesterov", "amsgrad", "clipnorm", "clipvalue", "global_clipnorm",
        "weight_decay"])
def test_two_circles_optimizers_match_keras(optimizer):
    reference, ours = build_pair(two_circles_model)
    ref, got = fit_both(reference, ours, X, Y,
                        dict(loss="binary_crossentropy", optimizer=optimizer,
                             metrics=["accuracy"]),
                        epochs=20, batch_size=32, validation_split=0.2)
    assert_histories_close(ref, got)
