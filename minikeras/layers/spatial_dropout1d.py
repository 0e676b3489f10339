"""`SpatialDropout1D`: dropout of whole channels of 1-D feature maps."""

from minikeras.layers.base_spatial_dropout import BaseSpatialDropout


class SpatialDropout1D(BaseSpatialDropout):
    """Drops whole channels: x (batch, steps, channels) with one keep-mask entry per
    (sample, channel), scaled by 1 / (1 - rate) while training; identity otherwise.
    """

    rank = 1
