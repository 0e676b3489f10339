"""`keras.layers`: the layers, one public class per file in this folder."""

from minikeras.layers.activation import Activation
from minikeras.layers.activity_regularization import ActivityRegularization
from minikeras.layers.alpha_dropout import AlphaDropout
from minikeras.layers.average_pooling2d import AveragePooling2D
from minikeras.layers.batch_normalization import BatchNormalization
from minikeras.layers.conv2d import Conv2D
from minikeras.layers.cropping2d import Cropping2D
from minikeras.layers.dense import Dense
from minikeras.layers.dropout import Dropout
from minikeras.layers.elu import ELU
from minikeras.layers.flatten import Flatten
from minikeras.layers.gaussian_dropout import GaussianDropout
from minikeras.layers.gaussian_noise import GaussianNoise
from minikeras.layers.global_average_pooling2d import GlobalAveragePooling2D
from minikeras.layers.global_max_pooling2d import GlobalMaxPooling2D
from minikeras.layers.group_normalization import GroupNormalization
from minikeras.layers.input_layer import Input, InputLayer
from minikeras.layers.lambda_layer import Lambda
from minikeras.layers.layer import Layer
from minikeras.layers.layer_normalization import LayerNormalization
from minikeras.layers.leaky_relu import LeakyReLU
from minikeras.layers.max_pooling2d import MaxPooling2D
from minikeras.layers.normalization import Normalization
from minikeras.layers.prelu import PReLU
from minikeras.layers.relu import ReLU
from minikeras.layers.rescaling import Rescaling
from minikeras.layers.reshape import Reshape
from minikeras.layers.softmax import Softmax
from minikeras.layers.spatial_dropout1d import SpatialDropout1D
from minikeras.layers.spatial_dropout2d import SpatialDropout2D
from minikeras.layers.spatial_dropout3d import SpatialDropout3D
from minikeras.layers.unit_normalization import UnitNormalization
from minikeras.layers.up_sampling2d import UpSampling2D
from minikeras.layers.zero_padding2d import ZeroPadding2D

# Keras's alternative names for the same classes.
Convolution2D = Conv2D
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D

__all__ = [
    "Activation",
    "ActivityRegularization",
    "AlphaDropout",
    "AveragePooling2D",
    "AvgPool2D",
    "BatchNormalization",
    "Conv2D",
    "Convolution2D",
    "Cropping2D",
    "Dense",
    "Dropout",
    "ELU",
    "Flatten",
    "GaussianDropout",
    "GaussianNoise",
    "GlobalAveragePooling2D",
    "GlobalAvgPool2D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling2D",
    "GroupNormalization",
    "Input",
    "InputLayer",
    "Lambda",
    "Layer",
    "LayerNormalization",
    "LeakyReLU",
    "MaxPool2D",
    "MaxPooling2D",
    "Normalization",
    "PReLU",
    "ReLU",
    "Rescaling",
    "Reshape",
    "Softmax",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "UnitNormalization",
    "UpSampling2D",
    "ZeroPadding2D",
]
