"""`SpatialDropout2D`: dropout of whole channels of 2-D feature maps."""

from minikeras.layers.base_spatial_dropout import BaseSpatialDropout


class SpatialDropout2D(BaseSpatialDropout):
    """Drops whole channels: x (batch, rows, cols, channels) with one keep-mask entry per
    (sample, channel), scaled by 1 / (1 - rate) while training; identity otherwise.
    """

    rank = 2
