"""Name helpers shared by the registries of activations, losses, metrics and optimizers."""

import re


def to_snake_case(name):
    """"GlorotUniform" -> "glorot_uniform", "MaxPooling2D" -> "max_pooling2d"."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
