"""Finite-difference gradient checks, shared by the test files (float64, central differences).

    numerical_gradient(f, x)          d f / d x by central differences, f(x) -> float
    relative_error(analytic, numeric) max |a - n| / max(max |a|, max |n|)
    check_gradient(f, x, analytic)    asserts the two agree (relative error < rtol)
    check_layer(layer, x)             a layer's backward: dL/dx and every weight gradient,
                                      for L = sum(out * R), R a fixed random array

Use float64 everywhere: with step 1e-6, central differences are accurate to ~1e-10 relative,
far below the 1e-6 tolerance, so a failure means a wrong backward, not rounding noise.
Keep test points away from kinks (relu at 0, a clip's edges) by much more than the step.
"""

import numpy as np

STEP = 1e-6
RTOL = 1e-6


def numerical_gradient(f, x, step=STEP):
    """d f / d x for a scalar function f of the array x (changed in place, then restored)."""
    grad = np.zeros_like(x, dtype=np.float64)
    flat_x = x.reshape(-1)          # a view: writing to it changes x
    flat_grad = grad.reshape(-1)
    for i in range(flat_x.size):
        saved = flat_x[i]
        flat_x[i] = saved + step
        f_plus = float(f(x))
        flat_x[i] = saved - step
        f_minus = float(f(x))
        flat_x[i] = saved
        flat_grad[i] = (f_plus - f_minus) / (2.0 * step)
    return grad


def relative_error(analytic, numeric):
    """Largest absolute difference, relative to the larger gradient's largest entry."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    assert analytic.shape == numeric.shape, (analytic.shape, numeric.shape)
    scale = max(np.max(np.abs(analytic), initial=0.0), np.max(np.abs(numeric), initial=0.0))
    if scale == 0.0:
        return 0.0
    return float(np.max(np.abs(analytic - numeric)) / scale)


def check_gradient(f, x, analytic, step=STEP, rtol=RTOL, name="gradient"):
    """Asserts that `analytic` is d f / d x at x. Returns the relative error."""
    assert x.dtype == np.float64, f"check gradients in float64, got {x.dtype}"
    numeric = numerical_gradient(f, x, step)
    error = relative_error(analytic, numeric)
    assert error < rtol, (
        f"{name}: relative error {error:.3e} >= {rtol:.0e}\n"
        f"analytic:\n{np.asarray(analytic)}\nnumeric:\n{numeric}"
    )
    assert np.max(np.abs(numeric)) > 0 or np.max(np.abs(analytic)) == 0
    return error


def check_layer(layer, x, training=False, seed=0, rtol=RTOL, before_forward=None):
    """Checks a built-or-unbuilt layer's backward against finite differences.

    L = sum(out * R) for a fixed random R, so dL/dout = R. Checks dL/dx and the gradient of
    every trainable weight (in trainable_weights order). `before_forward()` runs before every
    forward (for example to re-seed a Dropout mask). Returns the largest relative error.
    """
    x = np.array(x, dtype=np.float64)
    if not layer.built:
        layer._maybe_build(x.shape)

    def forward(inputs):
        if before_forward is not None:
            before_forward()
        return layer.forward(inputs, training=training)

    out, cache = forward(x)
    r = np.random.default_rng(seed).normal(size=out.shape)
    dx, grads = layer.backward(r, cache)
    assert dx.shape == x.shape, (dx.shape, x.shape)
    assert len(grads) == len(layer.trainable_weights)

    def loss_of_input(inputs):
        return np.sum(forward(inputs)[0] * r)

    errors = [check_gradient(loss_of_input, x, dx, rtol=rtol, name=f"{layer.name} dL/dx")]
    for weight, grad in zip(layer.trainable_weights, grads):
        assert grad.shape == weight.shape, (weight.path, grad.shape, weight.shape)

        def loss_of_weight(_):
            return np.sum(forward(x)[0] * r)

        errors.append(check_gradient(loss_of_weight, weight.value, grad, rtol=rtol,
                                     name=f"{weight.path}"))
    return max(errors)
