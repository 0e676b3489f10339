"""`Adafactor`: Adam-like steps with a factored second moment (Shazeer and Stern, 2018)."""

import numpy as np

from minikeras.optimizers.base_optimizer import Optimizer, check_number
from minikeras.sparse_rows import dense, per_occurrence, squares


class Adafactor(Optimizer):
    """At step t (counting from 1), for gradient g of a variable w, with rms(x) the root mean
    square of all entries of x:

        rho = min(lr, 1 / sqrt(t))                   relative step size
        alpha = max(epsilon_2, rms(w)) * rho         step scaled to the weights' size
        beta = 1 - t^beta_2_decay                    decay rate growing towards 1
        G = g^2 + epsilon_1

    For variables with 2 or more dimensions the second moment is stored factored, as its
    means over the last axis (R, shape w.shape[:-1]) and over the second-to-last (C):

        R = beta R + (1 - beta) mean(G, axis=-1)
        C = beta C + (1 - beta) mean(G, axis=-2)
        v = (R / mean(R, axis=-1))[..., :, None] * C[..., None, :]

    and for vectors and scalars in full:  v = beta v + (1 - beta) G.  Then

        u = g / sqrt(v)
        w = w - alpha u / max(1, rms(u) / clip_threshold)

    For an Embedding's SparseRows gradient (one row per occurrence of an id), as Keras on
    TensorFlow: g^2 adds each occurrence's square per row, u is computed per occurrence (its
    RMS counts each occurrence), and w moves by the occurrences' u summed per row.

    State, per variable as Keras creates it: R, C (0-d integer placeholders for variables
    of fewer than 2 dimensions), then v ("velocity").

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_2_decay: exponent of the decay-rate schedule (default -0.8).
        epsilon_1: added to g^2 (default 1e-30).
        epsilon_2: floor of rms(w) in the step size (default 1e-3).
        clip_threshold: bound on rms(u) (default 1.0).
        relative_step: accepted as Keras does; rho is min(lr, 1/sqrt(t)) either way.
        name: optimizer name (default "adafactor", made unique).
        **kwargs: the common arguments, see `Optimizer` (weight_decay, clipnorm,
            clipvalue, global_clipnorm, use_ema, gradient_accumulation_steps...).
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30,
                 epsilon_2=1e-3, clip_threshold=1.0, relative_step=True, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_2_decay = check_number("beta_2_decay", beta_2_decay, high=0.0)
        self.epsilon_1 = check_number("epsilon_1", epsilon_1, 0.0)
        self.epsilon_2 = check_number("epsilon_2", epsilon_2, 0.0)
        self.clip_threshold = check_number("clip_threshold", clip_threshold, 0.0,
                                           low_open=True)
        self.relative_step = relative_step

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.row_means, self.column_means, self.velocities = [], [], []
        for v in variables:
            if v.value.ndim >= 2:
                shape = v.shape
                self.row_means.append(np.zeros(shape[:-1], dtype=v.value.dtype))
                self.column_means.append(np.zeros(shape[:-2] + shape[-1:], dtype=v.value.dtype))
            else:
                self.row_means.append(np.zeros((), dtype=np.int32))
                self.column_means.append(np.zeros((), dtype=np.int32))
            self.velocities.append(self.add_slot(v))

    def state_arrays(self):
        return [a for triple in zip(self.row_means, self.column_means, self.velocities)
                for a in triple]

    @staticmethod
    def _rms(x):
        return np.sqrt(np.mean(np.square(x)))

    def update_step(self, gradient, variable, learning_rate):
        i = self._index(variable)
        dtype = variable.value.dtype.type
        t = dtype(self.iterations + 1)
        rho = min(dtype(learning_rate), 1 / np.sqrt(t))
        alpha = max(dtype(np.float32(self.epsilon_2)), self._rms(variable.value)) * rho
        g2 = squares(gradient) + self.epsilon_1     # per occurrence for SparseRows, summed
        beta = 1 - t ** dtype(self.beta_2_decay)
        v = self.velocities[i]
        if variable.value.ndim >= 2:
            r, c = self.row_means[i], self.column_means[i]
            r[...] = beta * r + (1 - beta) * np.mean(g2, axis=-1)
            c[...] = beta * c + (1 - beta) * np.mean(g2, axis=-2)
            v[...] = (r / np.mean(r, axis=-1, keepdims=True))[..., None] * c[..., None, :]
        else:
            v[...] = beta * v + (1 - beta) * g2
        # u per occurrence for SparseRows: its RMS counts each occurrence's square.
        u = per_occurrence(lambda g, v: g / np.sqrt(v), gradient, v)
        rms_u = np.sqrt(np.mean(squares(u)))
        variable.value -= alpha * (dense(u) / max(dtype(1), rms_u / dtype(self.clip_threshold)))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                       "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                       "relative_step": self.relative_step})
        return config
