"""`keras.layers`: the layers, one public class per file in this folder."""

from minikeras.layers.activation import Activation
from minikeras.layers.add import Add, add
from minikeras.layers.average import Average, average
from minikeras.layers.average_pooling2d import AveragePooling2D
from minikeras.layers.concatenate import Concatenate, concatenate
from minikeras.layers.conv2d import Conv2D
from minikeras.layers.dense import Dense
from minikeras.layers.dot import Dot, dot
from minikeras.layers.dropout import Dropout
from minikeras.layers.flatten import Flatten
from minikeras.layers.global_average_pooling2d import GlobalAveragePooling2D
from minikeras.layers.global_max_pooling2d import GlobalMaxPooling2D
from minikeras.layers.input_layer import Input, InputLayer
from minikeras.layers.layer import Layer
from minikeras.layers.max_pooling2d import MaxPooling2D
from minikeras.layers.maximum import Maximum, maximum
from minikeras.layers.minimum import Minimum, minimum
from minikeras.layers.multiply import Multiply, multiply
from minikeras.layers.reshape import Reshape
from minikeras.layers.subtract import Subtract, subtract
from minikeras.layers.zero_padding2d import ZeroPadding2D

# Keras's alternative names for the same classes.
Convolution2D = Conv2D
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D

__all__ = [
    "Activation",
    "Add",
    "add",
    "Average",
    "average",
    "AveragePooling2D",
    "AvgPool2D",
    "Concatenate",
    "concatenate",
    "Conv2D",
    "Convolution2D",
    "Dense",
    "Dot",
    "dot",
    "Dropout",
    "Flatten",
    "GlobalAveragePooling2D",
    "GlobalAvgPool2D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling2D",
    "Input",
    "InputLayer",
    "Layer",
    "Maximum",
    "maximum",
    "MaxPool2D",
    "MaxPooling2D",
    "Minimum",
    "minimum",
    "Multiply",
    "multiply",
    "Reshape",
    "Subtract",
    "subtract",
    "ZeroPadding2D",
]
