"""`TerminateOnNaN`: stop training as soon as the loss is NaN or infinite."""

import numpy as np

from minikeras.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """After each training batch, checks logs["loss"] (the epoch's running mean so far).

    Args:
        raise_error: raise a RuntimeError instead of setting `model.stop_training`.
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or np.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                "Terminating training immediately."
            )
        print(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True
