"""A model with two inputs and two outputs, built with the functional API.

A toy version of a support-ticket triage model: each ticket has a text summary (here a bag of
64 word counts) and a few numeric features (the customer's plan, age of account, ...). From
both, the model predicts the ticket's priority (a number in [0, 1], a regression head) and its
department (one of 4 classes, a classification head).

The losses are given per output as a dict keyed by the output layers' names, and
`loss_weights` makes the classification loss count twice as much as the regression one. fit
gets dicts of arrays keyed by input and output names; History holds one loss per output.

A plain Keras script. Run it on Keras with `python examples/multi_io.py`, or on minikeras with
`minikeras run examples/multi_io.py`. The data is made here with a fixed seed.
"""

import argparse

import keras
import numpy as np
from keras import layers
from keras.utils import set_random_seed

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--epochs", type=int, default=20)
args = parser.parse_args()

set_random_seed(1)
rng = np.random.default_rng(0)
n, n_words, n_features, n_departments = 2000, 64, 6, 4

# Each department has its own words; priority depends on a few features and on two words.
words = rng.poisson(0.3, size=(n, n_words)).astype("float32")
department = rng.integers(0, n_departments, n)
for d in range(n_departments):
    words[department == d, d * 8:(d + 1) * 8] += rng.poisson(1.0, size=((department == d).sum(), 8))
features = rng.normal(size=(n, n_features)).astype("float32")
score = features[:, 0] - 0.5 * features[:, 1] + 0.8 * (words[:, 60] + words[:, 61])
priority = (1.0 / (1.0 + np.exp(-score))).astype("float32")
department_onehot = np.eye(n_departments, dtype="float32")[department]

text_input = keras.Input(shape=(n_words,), name="text")
features_input = keras.Input(shape=(n_features,), name="features")
text = layers.Dense(32, activation="relu", name="text_dense")(text_input)
numbers = layers.Dense(8, activation="relu", name="features_dense")(features_input)
joined = layers.concatenate([text, numbers], name="joined")
hidden = layers.Dense(32, activation="relu", name="hidden")(joined)
priority_output = layers.Dense(1, activation="sigmoid", name="priority")(hidden)
department_output = layers.Dense(n_departments, activation="softmax", name="department")(hidden)
model = keras.Model(inputs=[text_input, features_input],
                    outputs=[priority_output, department_output], name="triage")
model.summary()

model.compile(
    optimizer="adam",
    loss={"priority": "mean_squared_error", "department": "categorical_crossentropy"},
    loss_weights={"priority": 1.0, "department": 2.0},
    metrics={"priority": ["mae"], "department": ["accuracy"]},
)
train, test = slice(0, 1600), slice(1600, n)
history = model.fit(
    {"text": words[train], "features": features[train]},
    {"priority": priority[train], "department": department_onehot[train]},
    epochs=args.epochs, batch_size=32, verbose=2,
)
print("History keys:", sorted(history.history))

results = model.evaluate({"text": words[test], "features": features[test]},
                         {"priority": priority[test], "department": department_onehot[test]},
                         verbose=0, return_dict=True)
for key in sorted(results):
    print(f"test {key}: {results[key]:.4f}")
