"""Integer inputs to Dense (a lookup layer's one-hot, an int Input) give float32 outputs, as in
Keras, whose matmul promotes int64 x float32 to float32 (NumPy alone would give float64)."""

import numpy as np

import minikeras


def test_integer_inputs_give_float32_outputs_and_train():
    inputs = minikeras.Input((3,), dtype="int64")
    outputs = minikeras.layers.Dense(2)(inputs)
    model = minikeras.Model(inputs, outputs)
    x = np.array([[1, 0, 2], [0, 1, 1]], dtype=np.int64)
    prediction = model.predict(x, verbose=0)
    assert prediction.dtype == np.float32 and outputs.dtype == "float32"
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(prediction, x.astype(np.float32) @ kernel + bias, rtol=1e-6)
    model.compile(loss="mse", optimizer="sgd")
    model.fit(x, np.ones((2, 2), np.float32), epochs=1, verbose=0)
    assert all(w.dtype == np.float32 for w in model.get_weights())


def test_a_lookup_one_hot_feeding_dense_predicts_float32():
    inputs = minikeras.Input((1,), dtype="int64")
    encoded = minikeras.layers.IntegerLookup(vocabulary=[3, 5, 7], output_mode="one_hot")(inputs)
    model = minikeras.Model(inputs, minikeras.layers.Dense(1)(encoded))
    assert model.predict(np.array([[5], [9]]), verbose=0).dtype == np.float32
