"""Shared part of SpatialDropout1D/2D/3D: Dropout that drops whole feature maps."""

from minikeras import backend
from minikeras.layers.dropout import Dropout


class BaseSpatialDropout(Dropout):
    """Dropout whose keep-mask has one entry per (sample, channel), broadcast over the steps
    or pixels, so a channel is kept or dropped everywhere at once: neighbouring positions
    are strongly correlated, and dropping them one by one would barely regularise.

    Args:
        rate: fraction of channels dropped, in [0, 1).
        data_format: "channels_last" or "channels_first" (2-D and 3-D only).
        seed: integer seed for the mask, or None for the global generator.
    """

    rank = None     # the number of spatial axes: 1, 2 or 3

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.data_format = backend.standardize_data_format(data_format)

    def _mask_shape(self, x):
        """(batch, 1, ..., 1, channels), or (batch, channels, 1, ..., 1) channels first."""
        if x.ndim != self.rank + 2:
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected "
                f"ndim={self.rank + 2}, found ndim={x.ndim}. Full shape received: {x.shape}"
            )
        ones = (1,) * self.rank
        if self.data_format == "channels_first":
            return (x.shape[0], x.shape[1]) + ones
        return (x.shape[0],) + ones + (x.shape[-1],)

    def get_config(self):
        config = {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


