"""`SpatialDropout3D`: dropout of whole channels of 3-D feature maps."""

from minikeras.layers.base_spatial_dropout import BaseSpatialDropout


class SpatialDropout3D(BaseSpatialDropout):
    """Drops whole channels: x (batch, dim1, dim2, dim3, channels) with one keep-mask entry per
    (sample, channel), scaled by 1 / (1 - rate) while training; identity otherwise.
    """

    rank = 3
