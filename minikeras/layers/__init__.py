"""`keras.layers`: the layers, one public class per file in this folder."""

from minikeras.layers.activation import Activation
from minikeras.layers.average_pooling2d import AveragePooling2D
from minikeras.layers.conv2d import Conv2D
from minikeras.layers.dense import Dense
from minikeras.layers.dropout import Dropout
from minikeras.layers.flatten import Flatten
from minikeras.layers.global_average_pooling2d import GlobalAveragePooling2D
from minikeras.layers.global_max_pooling2d import GlobalMaxPooling2D
from minikeras.layers.input_layer import Input, InputLayer
from minikeras.layers.lambda_layer import Lambda
from minikeras.layers.layer import Layer
from minikeras.layers.max_pooling2d import MaxPooling2D
from minikeras.layers.reshape import Reshape
from minikeras.layers.zero_padding2d import ZeroPadding2D

# Keras's alternative names for the same classes.
Convolution2D = Conv2D
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D

__all__ = [
    "Activation",
    "AvgPool2D",
    "AveragePooling2D",
    "Conv2D",
    "Convolution2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAvgPool2D",
    "GlobalAveragePooling2D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling2D",
    "Input",
    "InputLayer",
    "Lambda",
    "Layer",
    "MaxPool2D",
    "MaxPooling2D",
    "Reshape",
    "ZeroPadding2D",
]
