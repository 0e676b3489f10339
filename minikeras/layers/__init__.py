"""`keras.layers`: the layers, one public class per file in this folder."""

from minikeras.layers.activation import Activation
from minikeras.layers.activity_regularization import ActivityRegularization
from minikeras.layers.add import Add, add
from minikeras.layers.additive_attention import AdditiveAttention
from minikeras.layers.alpha_dropout import AlphaDropout
from minikeras.layers.attention import Attention
from minikeras.layers.average import Average, average
from minikeras.layers.average_pooling1d import AveragePooling1D
from minikeras.layers.average_pooling2d import AveragePooling2D
from minikeras.layers.batch_normalization import BatchNormalization
from minikeras.layers.bidirectional import Bidirectional
from minikeras.layers.category_encoding import CategoryEncoding
from minikeras.layers.center_crop import CenterCrop
from minikeras.layers.concatenate import Concatenate, concatenate
from minikeras.layers.conv1d import Conv1D
from minikeras.layers.conv1d_transpose import Conv1DTranspose
from minikeras.layers.conv2d import Conv2D
from minikeras.layers.conv2d_transpose import Conv2DTranspose
from minikeras.layers.cropping1d import Cropping1D
from minikeras.layers.cropping2d import Cropping2D
from minikeras.layers.dense import Dense
from minikeras.layers.depthwise_conv2d import DepthwiseConv2D
from minikeras.layers.discretization import Discretization
from minikeras.layers.dot import Dot, dot
from minikeras.layers.dropout import Dropout
from minikeras.layers.elu import ELU
from minikeras.layers.embedding import Embedding
from minikeras.layers.flatten import Flatten
from minikeras.layers.gaussian_dropout import GaussianDropout
from minikeras.layers.gaussian_noise import GaussianNoise
from minikeras.layers.global_average_pooling1d import GlobalAveragePooling1D
from minikeras.layers.global_average_pooling2d import GlobalAveragePooling2D
from minikeras.layers.global_max_pooling1d import GlobalMaxPooling1D
from minikeras.layers.global_max_pooling2d import GlobalMaxPooling2D
from minikeras.layers.group_normalization import GroupNormalization
from minikeras.layers.gru import GRU
from minikeras.layers.hashing import Hashing
from minikeras.layers.input_layer import Input, InputLayer
from minikeras.layers.integer_lookup import IntegerLookup
from minikeras.layers.lambda_layer import Lambda
from minikeras.layers.layer import Layer
from minikeras.layers.layer_normalization import LayerNormalization
from minikeras.layers.leaky_relu import LeakyReLU
from minikeras.layers.lstm import LSTM
from minikeras.layers.masking import Masking
from minikeras.layers.max_pooling1d import MaxPooling1D
from minikeras.layers.max_pooling2d import MaxPooling2D
from minikeras.layers.maximum import Maximum, maximum
from minikeras.layers.minimum import Minimum, minimum
from minikeras.layers.multi_head_attention import MultiHeadAttention
from minikeras.layers.multiply import Multiply, multiply
from minikeras.layers.normalization import Normalization
from minikeras.layers.permute import Permute
from minikeras.layers.prelu import PReLU
from minikeras.layers.random_contrast import RandomContrast
from minikeras.layers.random_flip import RandomFlip
from minikeras.layers.random_rotation import RandomRotation
from minikeras.layers.random_translation import RandomTranslation
from minikeras.layers.random_zoom import RandomZoom
from minikeras.layers.relu import ReLU
from minikeras.layers.repeat_vector import RepeatVector
from minikeras.layers.rescaling import Rescaling
from minikeras.layers.reshape import Reshape
from minikeras.layers.resizing import Resizing
from minikeras.layers.separable_conv2d import SeparableConv2D
from minikeras.layers.simple_rnn import SimpleRNN
from minikeras.layers.softmax import Softmax
from minikeras.layers.spatial_dropout1d import SpatialDropout1D
from minikeras.layers.spatial_dropout2d import SpatialDropout2D
from minikeras.layers.spatial_dropout3d import SpatialDropout3D
from minikeras.layers.string_lookup import StringLookup
from minikeras.layers.subtract import Subtract, subtract
from minikeras.layers.text_vectorization import TextVectorization
from minikeras.layers.time_distributed import TimeDistributed
from minikeras.layers.unit_normalization import UnitNormalization
from minikeras.layers.up_sampling1d import UpSampling1D
from minikeras.layers.up_sampling2d import UpSampling2D
from minikeras.layers.zero_padding1d import ZeroPadding1D
from minikeras.layers.zero_padding2d import ZeroPadding2D

# Keras's alternative names for the same classes.
Convolution1D = Conv1D
Convolution2D = Conv2D
MaxPool1D = MaxPooling1D
AvgPool1D = AveragePooling1D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D
Convolution2DTranspose = Conv2DTranspose
MaxPool2D = MaxPooling2D
SeparableConvolution2D = SeparableConv2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D

__all__ = [
    "AdditiveAttention",
    "Attention",
    "Activation",
    "ActivityRegularization",
    "Add",
    "add",
    "AlphaDropout",
    "Average",
    "average",
    "AveragePooling1D",
    "AveragePooling2D",
    "AvgPool1D",
    "AvgPool2D",
    "BatchNormalization",
    "CategoryEncoding",
    "Concatenate",
    "concatenate",
    "Bidirectional",
    "Conv1D",
    "Conv1DTranspose",
    "Conv2D",
    "Convolution1D",
    "Convolution2D",
    "Cropping1D",
    "Cropping2D",
    "Dense",
    "Discretization",
    "Dot",
    "dot",
    "CenterCrop",
    "Conv2DTranspose",
    "Convolution2DTranspose",
    "DepthwiseConv2D",
    "Dropout",
    "ELU",
    "Embedding",
    "Flatten",
    "GRU",
    "GaussianDropout",
    "GaussianNoise",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GroupNormalization",
    "Hashing",
    "Input",
    "InputLayer",
    "IntegerLookup",
    "Lambda",
    "LSTM",
    "Layer",
    "LayerNormalization",
    "LeakyReLU",
    "Maximum",
    "maximum",
    "Masking",
    "MultiHeadAttention",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "Minimum",
    "minimum",
    "Multiply",
    "multiply",
    "Normalization",
    "PReLU",
    "Permute",
    "RandomContrast",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "ReLU",
    "RepeatVector",
    "Rescaling",
    "Reshape",
    "SimpleRNN",
    "Resizing",
    "SeparableConv2D",
    "SeparableConvolution2D",
    "Softmax",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "StringLookup",
    "TextVectorization",
    "Subtract",
    "subtract",
    "TimeDistributed",
    "UnitNormalization",
    "UpSampling1D",
    "UpSampling2D",
    "ZeroPadding1D",
    "ZeroPadding2D",
]
