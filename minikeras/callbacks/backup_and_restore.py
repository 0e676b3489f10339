"""`BackupAndRestore`: resume an interrupted `fit` where it stopped.

At the end of every epoch (or every `save_freq` batches) the callback writes, in `backup_dir`:

    latest.weights.h5          weights and optimizer state (Keras's weights format)
    training_metadata.json     {"epoch": epochs completed, "batch": last batch seen}

When `fit` starts again with the same callback and a backup exists, the weights and the
optimizer state are loaded back and training resumes at the saved epoch (the model reads
`model._initial_epoch`, as Keras's fit does). A successful `fit` deletes the backup.
"""

import json
import os
import shutil

from minikeras.callbacks.callback import Callback
from minikeras.saving import file_io


class BackupAndRestore(Callback):
    """Args:
        backup_dir: directory for the backup files (created when needed).
        save_freq: "epoch", or an integer number of batches between backups.
        double_checkpoint: keep the previous backup as "<name>.bkp", used if the latest one
            cannot be read.
        delete_checkpoint: delete `backup_dir` when training ends normally.
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError(f"Empty `backup_dir` argument passed. Received: {backup_dir!r}")
        if save_freq != "epoch" and (isinstance(save_freq, bool)
                                     or not isinstance(save_freq, int) or save_freq <= 0):
            raise ValueError(
                "Invalid value for argument `save_freq`. Received: save_freq="
                f"{save_freq!r}. Expected either 'epoch' or a positive integer value."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._current_epoch = 0
        self._last_batch_seen = 0
        self._batches_since_save = 0

    # ----------------------------------------------------------------- restoring

    def on_train_begin(self, logs=None):
        try:
            self._restore()
        except (OSError, ValueError):
            previous = self._weights_path + ".bkp"
            if not os.path.exists(previous):
                raise
            shutil.copyfile(previous, self._weights_path)
            if os.path.exists(self._metadata_path + ".bkp"):
                shutil.copyfile(self._metadata_path + ".bkp", self._metadata_path)
            self._restore()

    def _restore(self):
        if not self.model.built:
            raise ValueError(
                "To use the BackupAndRestore callback, your model must be built before you "
                f"call `fit()`. Model {self.model.name!r} is unbuilt: build it first, e.g. "
                "with model.build(input_shape) or by starting it with Input(shape)."
            )
        if os.path.exists(self._weights_path):
            self.model.load_weights(self._weights_path)
        if os.path.exists(self._metadata_path):
            with open(self._metadata_path, encoding="utf-8") as f:
                metadata = json.load(f)
            epoch = metadata.get("epoch") if isinstance(metadata, dict) else None
            if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
                raise ValueError(
                    f"{self._metadata_path}: expected {{'epoch': <int >= 0>, ...}}. "
                    f"Received: {metadata!r}"
                )
            self._current_epoch = epoch
            self.model._initial_epoch = epoch

    # -------------------------------------------------------------------- saving

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._backup()

    def on_train_batch_end(self, batch, logs=None):
        self._last_batch_seen = batch
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._backup()

    def _backup(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for path in (self._weights_path, self._metadata_path):
                if os.path.exists(path):
                    shutil.copyfile(path, path + ".bkp")
        self.model.save_weights(self._weights_path, overwrite=True)
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        with file_io.atomic_write(self._metadata_path) as f:
            f.write(json.dumps(metadata).encode("utf-8"))

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
        if getattr(self.model, "_initial_epoch", None) is not None:
            self.model._initial_epoch = None
