"""Text classification with a small Transformer (keras.io's "Text classification with
Transformer", on generated sequences).

A plain Keras script. Run it on Keras with `python examples/transformer_classification.py`, or
on minikeras with `minikeras run examples/transformer_classification.py`.

Each sequence is random word ids with two marker words, A and B, placed somewhere; the label
says whether A comes before B. Averaging the word embeddings cannot tell (both orders hold the
same words): the model must know where each word is and compare positions, which is what
position embeddings and self-attention give it.

The model is keras.io's, written with the functional API: token and position embeddings
added (the position ids 0..MAXLEN-1 are a second input, so no custom layer is needed), one
transformer block (MultiHeadAttention, Dropout, a residual Add and LayerNormalization, then a
Dense feed-forward net with its own residual and LayerNormalization), GlobalAveragePooling1D
and a small softmax classifier.
"""

import argparse

import numpy as np
from keras.layers import (
    Add,
    Dense,
    Dropout,
    Embedding,
    GlobalAveragePooling1D,
    Input,
    LayerNormalization,
    MultiHeadAttention,
)
from keras.models import Model
from keras.utils import set_random_seed

VOCAB = 30          # word ids 0..29; 1 is the marker A, 2 the marker B
MAXLEN = 16
EMBED_DIM = 16      # size of each token's embedding
NUM_HEADS = 2
FF_DIM = 32         # hidden units of the feed-forward net inside the block


def make_sequences(n, rng):
    """n sequences of word ids (n, MAXLEN) and labels: 1 when A (id 1) comes before B (2)."""
    x = rng.integers(3, VOCAB, size=(n, MAXLEN))
    where = np.argsort(rng.random((n, MAXLEN)), axis=1)[:, :2]   # two distinct places
    rows = np.arange(n)
    x[rows, where[:, 0]] = 1
    x[rows, where[:, 1]] = 2
    labels = (where[:, 0] < where[:, 1]).astype("int32")
    return x.astype("int32"), labels


def transformer_block(x, rate):
    """keras.io's TransformerBlock: self-attention and a feed-forward net, each with a
    residual connection and layer normalization."""
    attention = MultiHeadAttention(num_heads=NUM_HEADS, key_dim=EMBED_DIM)(x, x)
    attention = Dropout(rate)(attention)
    x = LayerNormalization(epsilon=1e-6)(Add()([x, attention]))
    feed_forward = Dense(FF_DIM, activation="relu")(x)
    feed_forward = Dense(EMBED_DIM)(feed_forward)
    feed_forward = Dropout(rate)(feed_forward)
    return LayerNormalization(epsilon=1e-6)(Add()([x, feed_forward]))


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=10)
args = parser.parse_args()

set_random_seed(0)
rng = np.random.default_rng(0)
x, y = make_sequences(3000, rng)
positions = np.tile(np.arange(MAXLEN, dtype="int32"), (len(x), 1))
split = 2500
print(f"{len(x)} sequences of {MAXLEN} word ids; {y.mean():.0%} have A before B")

tokens = Input((MAXLEN,), dtype="int32", name="tokens")
position_ids = Input((MAXLEN,), dtype="int32", name="positions")
embedded = Add()([Embedding(VOCAB, EMBED_DIM)(tokens), Embedding(MAXLEN, EMBED_DIM)(position_ids)])
hidden = transformer_block(embedded, rate=0.1)
hidden = GlobalAveragePooling1D()(hidden)
hidden = Dropout(0.1)(hidden)
hidden = Dense(20, activation="relu")(hidden)
hidden = Dropout(0.1)(hidden)
outputs = Dense(2, activation="softmax")(hidden)
model = Model([tokens, position_ids], outputs)

model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit([x[:split], positions[:split]], y[:split], batch_size=32, epochs=args.epochs,
          verbose=0)
loss, accuracy = model.evaluate([x[split:], positions[split:]], y[split:], verbose=0)
print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
