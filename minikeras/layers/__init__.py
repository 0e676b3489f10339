"""`keras.layers`: the layers, one public class per file in this folder."""

from minikeras.layers.activation import Activation
from minikeras.layers.dense import Dense
from minikeras.layers.dropout import Dropout
from minikeras.layers.flatten import Flatten
from minikeras.layers.input_layer import Input, InputLayer
from minikeras.layers.layer import Layer
from minikeras.layers.reshape import Reshape

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "Layer",
           "Reshape"]
