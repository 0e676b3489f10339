"""minikeras: the Keras 3 API in NumPy.

`import minikeras as keras` gives the same names Keras has in the same modules:
`keras.models.Sequential`, `keras.layers.Dense`, `keras.optimizers.Adam`, ...
"""

__version__ = "0.1.0"

from minikeras import (  # noqa: E402
    activations,
    backend,
    callbacks,
    config,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    preprocessing,
    random,
    regularizers,
    saving,
    utils,
)
from minikeras._aliasing import install, uninstall  # noqa: E402
from minikeras.layers import Input  # noqa: E402
from minikeras.models import Model, Sequential  # noqa: E402
from minikeras.variables import Variable  # noqa: E402

__all__ = [
    "Input",
    "Model",
    "Sequential",
    "Variable",
    "__version__",
    "activations",
    "backend",
    "callbacks",
    "config",
    "constraints",
    "datasets",
    "initializers",
    "install",
    "layers",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "preprocessing",
    "random",
    "regularizers",
    "saving",
    "uninstall",
    "utils",
]
