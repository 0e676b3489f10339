"""trace_shapes: the per-layer shapes of one forward and backward pass."""

import numpy as np
import pytest

import minikeras
from minikeras import layers
from minikeras.layers.conv2d import Conv2D
from minikeras.layers.max_pooling2d import MaxPooling2D
from minikeras.utils.shape_trace import trace_shapes


def _two_circles_model():
    return minikeras.Sequential([
        layers.Dense(4, input_dim=2, activation="relu", name="d1"),
        layers.Dense(6, activation="relu", name="d2"),
        layers.Dense(6, activation="relu", name="d3"),
        layers.Dense(4, activation="relu", name="d4"),
        layers.Dense(1, activation="sigmoid", name="out"),
    ])


def test_dense_stack_shapes_and_table(capsys):
    model = _two_circles_model()
    before = model.get_weights()
    rows = trace_shapes(model, np.zeros((32, 2), dtype="float32"))
    widths = [2, 4, 6, 6, 4, 1]
    assert [row["layer"] for row in rows] == ["d1", "d2", "d3", "d4", "out"]
    for row, n_in, n_out in zip(rows, widths[:-1], widths[1:]):
        assert row["type"] == "Dense"
        assert row["A_prev"] == (32, n_in)
        assert row["W"] == row["dW"] == (n_in, n_out)
        assert row["b"] == row["db"] == (n_out,)
        assert row["Z"] == row["A"] == row["dA"] == (32, n_out)
        assert row["dA_prev"] == (32, n_in)
        assert row["weights"] == row["grads"] == {"kernel": (n_in, n_out), "bias": (n_out,)}
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)

    table = capsys.readouterr().out
    lines = table.splitlines()
    assert lines[0].split() == ["layer", "(type)", "A_prev", "W", "b", "Z", "A", "dA", "dW",
                                "db", "dA_prev"]
    assert lines[2].split() == ["d1", "(Dense)", "(32,2)", "(2,4)", "(4,)", "(32,4)", "(32,4)",
                                "(32,4)", "(2,4)", "(4,)", "(32,2)"]


def test_convolution_pooling_flatten_dropout_and_unbuilt_model(capsys):
    model = minikeras.Sequential([
        Conv2D(3, 3, padding="same", activation="relu", name="conv"),
        MaxPooling2D(2, name="pool"),
        layers.Flatten(name="flat"),
        layers.Dropout(0.5, name="drop"),
        layers.Dense(2, activation="softmax", name="dense"),
    ])
    rows = trace_shapes(model, np.ones((4, 6, 6, 2)), training=True, print_table=False)
    assert capsys.readouterr().out == ""
    assert model.built
    by_name = {row["layer"]: row for row in rows}
    assert by_name["conv"]["W"] == by_name["conv"]["dW"] == (3, 3, 2, 3)
    assert by_name["conv"]["Z"] == by_name["conv"]["A"] == (4, 6, 6, 3)
    assert by_name["conv"]["dA_prev"] == (4, 6, 6, 2)
    assert by_name["pool"]["A"] == (4, 3, 3, 3)
    assert by_name["pool"]["W"] is None and by_name["pool"]["Z"] is None
    assert by_name["pool"]["dA_prev"] == (4, 6, 6, 3)
    assert by_name["flat"]["A"] == (4, 27) and by_name["flat"]["dA_prev"] == (4, 3, 3, 3)
    assert by_name["drop"]["weights"] == {} and by_name["drop"]["grads"] == {}
    assert by_name["dense"]["dW"] == (27, 2)


def test_print_fn_and_errors():
    printed = []
    trace_shapes(_two_circles_model(), np.zeros((3, 2)), print_fn=printed.append)
    assert len(printed) == 1 and "dA_prev" in printed[0]
    with pytest.raises(TypeError, match="Sequential"):
        trace_shapes(layers.Dense(2), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"x.shape=\(0, 2\)"):
        trace_shapes(_two_circles_model(), np.zeros((0, 2)))
