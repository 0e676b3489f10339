"""Text classification: word embeddings, then averaging (fastText style) or a 1-D convnet.

A plain Keras script. Run it on Keras with `python examples/text_classification.py`, or on
minikeras with `minikeras run examples/text_classification.py`.

The "reviews" are generated here: sentences of filler words with a few opinion words mixed in,
some of them negated ("not good"). A review is positive when its opinions, with negations
flipping them, add up above zero. Two models learn it from the padded word ids:

- averaging: Embedding(mask_zero=True) + GlobalAveragePooling1D. The mask keeps the padding
  out of the average, but word order is lost, so "not good" looks like "good" plus "not".
- convnet: Embedding + Conv1D(kernel 2) + GlobalMaxPooling1D. Each filter sees word pairs, so
  it can learn what "not" does to the next word.
"""

import argparse

import numpy as np
from keras.layers import (
    Conv1D,
    Dense,
    Embedding,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Input,
)
from keras.models import Sequential
from keras.preprocessing.sequence import pad_sequences
from keras.utils import set_random_seed

POSITIVE = ["good", "great", "fine", "superb", "lovely", "fun", "clever", "moving"]
NEGATIVE = ["bad", "dull", "awful", "boring", "weak", "silly", "poor", "tedious"]
FILLER = ["the", "film", "plot", "was", "and", "a", "very", "acting", "story", "it", "this",
          "of", "with", "cast", "ending", "music", "is", "quite", "but", "at", "times"]
MAXLEN = 40


def make_reviews(n, rng):
    """n generated reviews (lists of words) and their 0/1 labels."""
    reviews, labels = [], []
    for _ in range(n):
        words = list(rng.choice(FILLER, rng.integers(8, 30)))
        score = 0
        for _ in range(rng.integers(1, 4)):
            positive = rng.random() < 0.5
            phrase = [str(rng.choice(POSITIVE if positive else NEGATIVE))]
            sign = 1 if positive else -1
            if rng.random() < 0.35:          # "not good" counts as negative
                phrase = ["not"] + phrase
                sign = -sign
            score += sign
            at = rng.integers(0, len(words) + 1)
            words[at:at] = phrase
        if score == 0:                       # no tie: one more opinion decides it
            words.append(str(rng.choice(POSITIVE)))
            score = 1
        reviews.append(words)
        labels.append(1.0 if score > 0 else 0.0)
    return reviews, np.array(labels, dtype="float32")


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=12)
args = parser.parse_args()

set_random_seed(0)
rng = np.random.default_rng(0)
reviews, labels = make_reviews(3000, rng)
# Word ids from 1 up (0 is the padding id, which mask_zero=True masks out).
vocabulary = {word: i + 1 for i, word in enumerate(["not"] + POSITIVE + NEGATIVE + FILLER)}
ids = [[vocabulary[w] for w in review] for review in reviews]
x = pad_sequences(ids, maxlen=MAXLEN, padding="post", truncating="post")
split = 2500
x_train, y_train, x_test, y_test = x[:split], labels[:split], x[split:], labels[split:]
print(f"{len(x)} reviews, padded to {x.shape[1]} word ids; {labels.mean():.0%} positive")

models = {
    "averaging": Sequential([
        Input((MAXLEN,), dtype="int32"),
        Embedding(len(vocabulary) + 1, 16, mask_zero=True),
        GlobalAveragePooling1D(),
        Dense(1, activation="sigmoid"),
    ]),
    "convnet": Sequential([
        Input((MAXLEN,), dtype="int32"),
        Embedding(len(vocabulary) + 1, 16),
        Conv1D(32, 2, padding="same", activation="relu"),
        GlobalMaxPooling1D(),
        Dense(1, activation="sigmoid"),
    ]),
}
for name, model in models.items():
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=args.epochs, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"{name:9s} test loss {loss:.4f}, test accuracy {accuracy:.4f}")
