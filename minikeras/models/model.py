"""`Model`: compile, fit, evaluate and predict, the training loop a student can follow.

One training step (`train_step`) is the whole algorithm:

    y_pred = forward(x)                       every layer, first to last
    loss = loss_fn(y, y_pred) + penalties     the number being minimised
    grads = backward(dL/dy_pred)              every layer, last to first (backpropagation)
    optimizer.apply(grads, weights)           one step downhill

`fit` repeats it over mini-batches for a number of epochs and records the running means of the
loss and metrics in a History. A subclass (Sequential) says how layers connect by implementing
`_forward`, `_backward` and `_output_logits`; everything else is shared here.
"""

import contextlib
import warnings

import numpy as np

from minikeras import backend
from minikeras import optimizers as optimizers_module
from minikeras.callbacks import CallbackList
from minikeras.kernels import parallel
from minikeras.layers.layer import Layer
from minikeras.losses import reduce_weighted_values
from minikeras.metrics import Mean
from minikeras.models import compile_utils, data


class Model(Layer):
    """Base class of models: training and inference on NumPy arrays."""

    def __init__(self, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False      # a callback sets these to end the loop early
        self.stop_evaluating = False
        self.stop_predicting = False
        self.history = None
        self._metric_identifiers = []
        self._weighted_metric_identifiers = []
        self._compiled_metrics = None    # built on the first batch, once shapes are known
        self._fixed_step_weights = None  # set while fit() / train_on_batch() run
        self._initial_epoch = None       # set by BackupAndRestore to resume a crashed run

    # ---------------------------------------------------------- graph interface

    def _forward(self, x, training):
        """Runs the layers. Returns (y_pred, tape); the tape is what _backward needs."""
        raise NotImplementedError

    def _backward(self, dy, tape, from_logits=False):
        """Backpropagates dL/dy_pred. Returns one gradient per trainable weight."""
        raise NotImplementedError

    def _output_logits(self, tape):
        """The logits behind a sigmoid/softmax output, or None."""
        raise NotImplementedError

    def _penalty(self, tape):
        """Activity-regularization penalty collected during _forward (0.0 if none)."""
        return 0.0

    def __call__(self, x, training=False):
        x = data.as_float(data.to_array("x", x), "x")
        self._maybe_build(x.shape)
        return self._forward(x, training)[0]

    # ------------------------------------------------------------------ compile

    @property
    def splits_batches(self):
        return any(layer.splits_batches for layer in self.layers)

    def _all_cores(self):
        """The context fit, evaluate and predict run their batches in.

        A model with convolution or pooling layers runs with BLAS pinned to one thread while
        those layers split each big batch over the cores themselves (kernels/parallel.py says
        why that is faster); a stack of Dense layers leaves its products to BLAS's threads.
        """
        if self.splits_batches:
            return parallel.one_blas_thread()
        return contextlib.nullcontext()

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Chooses the optimizer, the loss and the metrics for training.

        Args:
            optimizer: name ("adam") or Optimizer instance.
            loss: name ("binary_crossentropy"), loss function or Loss instance.
            loss_weights: a scalar factor applied to the loss.
            metrics: list of metric names, functions or Metric instances ("accuracy" is
                resolved from the targets' and predictions' shapes).
            weighted_metrics: like metrics, but weighted by sample_weight / class_weight.
            run_eagerly, steps_per_execution, jit_compile, auto_scale_loss: accepted for
                compatibility; they change nothing here.

        Changing a layer's `trainable` takes effect at the next fit(). (Keras fixes the list
        of weights to train at the first fit() after compile(), so there a change made
        between two fit() calls needs a new compile(); recompiling is right for both.)
        """
        # Everything is resolved before anything is assigned: a compile() that raises leaves
        # the model as it was (its trained optimizer, loss and metrics).
        new_optimizer = optimizers_module.get(optimizer)
        new_loss = compile_utils.resolve_loss(loss)
        new_loss_weight = compile_utils.resolve_loss_weight(loss_weights)
        metric_identifiers = compile_utils.check_metric_identifiers("metrics", metrics)
        weighted_metric_identifiers = compile_utils.check_metric_identifiers(
            "weighted_metrics", weighted_metrics)
        self.optimizer = new_optimizer
        self.loss = new_loss
        self.loss_weight = new_loss_weight
        self._metric_identifiers = metric_identifiers
        self._weighted_metric_identifiers = weighted_metric_identifiers
        self._compiled_metrics = None
        self._loss_tracker = Mean(name="loss")
        self.compiled = True

    def _check_compiled(self, method):
        # Keras raises ValueError here (not RuntimeError): match it, so `except` clauses agree.
        if not self.compiled:
            raise ValueError(
                f"You must call `compile()` before using the model: `{method}()` needs a loss "
                f"and an optimizer. Model {self.name!r} is not compiled."
            )

    def _build_metrics(self, y, y_pred):
        """Creates the compiled metrics once the shapes of y and y_pred are known.

        Each gets its History key as Keras names it: its own name, "name_1", ... for repeats,
        and "weighted_name" for a weighted metric whose name is already taken.
        """
        taken = {}
        compiled = []
        for identifiers, weighted in ((self._metric_identifiers, False),
                                      (self._weighted_metric_identifiers, True)):
            for identifier in identifiers:
                metric = compile_utils.build_metric(identifier, y, y_pred)
                key = metric.name
                if key in taken and weighted:
                    key = "weighted_" + metric.name
                if key in taken:
                    taken[key] += 1
                    key = f"{key}_{taken[key] - 1}"
                else:
                    taken[key] = 1
                compiled.append((key, metric, weighted))
        self._compiled_metrics = compiled

    @property
    def metrics(self):
        """The loss tracker and the compiled metrics, in that order."""
        if not self.compiled:
            return []
        tracked = [self._loss_tracker]
        if self._compiled_metrics is not None:
            tracked += [metric for _, metric, _ in self._compiled_metrics]
        return tracked

    @property
    def metrics_names(self):
        """The History keys of the loss and the metrics ("loss", "accuracy", ...)."""
        if not self.compiled:
            return []
        names = ["loss"]
        if self._compiled_metrics is not None:
            names += [key for key, _, _ in self._compiled_metrics]
        return names

    def reset_metrics(self):
        for metric in self.metrics:
            metric.reset_state()

    def _metric_logs(self):
        # Keras's results are floatx values (float32 by default) made Python floats, so a
        # printed accuracy reads 0.8640000224113464 on both engines.
        floatx = backend.floatx()
        logs = {"loss": float(np.asarray(self._loss_tracker.result(), dtype=floatx))}
        for key, metric, _ in self._compiled_metrics or []:
            # Most metrics give a number; some (F1Score, Precision at several thresholds)
            # give an array, which Keras logs as it is.
            value = np.asarray(metric.result(), dtype=floatx)
            logs[key] = float(value) if value.ndim == 0 else value
        return logs

    def _logs_as_list(self, logs):
        """evaluate()/..._on_batch() values without return_dict, in Keras's order: each metric
        object's own name looked up in the logs, then the remaining keys sorted. (So a metric
        given both in `metrics` and `weighted_metrics` appears twice, as in Keras.)"""
        names = [metric.name for metric in self.metrics]
        values = [logs[name] for name in names if name in logs]
        values += [logs[key] for key in sorted(logs) if key not in names]
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------ the step maths

    def compute_loss(self, y, y_pred, tape, sample_weight=None):
        """The loss to minimise and its gradient with respect to the model's output.

        Returns (loss, dy, from_logits): dy is dL/d(y_pred), or dL/d(logits) when the output
        came from a sigmoid/softmax and the loss is a cross-entropy (from_logits is then True).
        """
        logits = self._output_logits(tape) if self.loss.accepts_output_logits else None
        values, loss_cache = self.loss.forward(y, y_pred, logits=logits)
        loss, dvalues = reduce_weighted_values(values, sample_weight, self.loss.reduction)
        if self.loss_weight != 1.0:
            dvalues = dvalues * self.loss_weight
            loss = loss * self.loss_weight
        dy = self.loss.backward(dvalues, loss_cache)
        loss += self._penalty(tape) + self._weight_penalty()
        return loss, dy, logits is not None

    def _step_weights(self):
        """(trainable weights, [(index, weight) of those with a regularizer]).

        fit() fixes these lists when it starts, so that each step does not walk the layers
        again to collect them.
        """
        if self._fixed_step_weights is not None:
            return self._fixed_step_weights
        weights = self.trainable_weights
        return weights, [(i, w) for i, w in enumerate(weights) if w.regularizer is not None]

    def _weight_penalty(self):
        """Sum of the weight regularizers' penalties (part of Keras's `model.losses`)."""
        regularized = self._step_weights()[1]
        if not regularized:
            return 0.0
        return sum(w.regularizer(w.value) for _, w in regularized)

    def _gradients(self, dy, tape, from_logits):
        """Backpropagation plus the regularizers' gradients, one per trainable weight."""
        grads = self._backward(dy, tape, from_logits)
        if self._fixed_step_weights is not None and \
                len(grads) != len(self._fixed_step_weights[0]):
            # A callback changed some layer's `trainable` during fit(): collect them again.
            self._fixed_step_weights = None
            self._fixed_step_weights = self._step_weights()
        for i, weight in self._step_weights()[1]:
            grads[i] = grads[i] + weight.regularizer.gradient(weight.value)
        return grads

    def train_step(self, x, y, sample_weight=None):
        """One optimizer step on one batch. Returns the logs so far this epoch."""
        # A diverging run overflows somewhere in here; as in Keras, that shows as a nan/inf
        # loss in the logs (TerminateOnNaN acts on it), not as NumPy RuntimeWarnings.
        with np.errstate(all="ignore"):
            y_pred, tape = self._forward(x, training=True)
            loss, dy, from_logits = self.compute_loss(y, y_pred, tape, sample_weight)
            grads = self._gradients(dy, tape, from_logits)
            weights = self._step_weights()[0]
            if weights:
                self.optimizer.apply(grads, weights)
            else:
                # As Keras: a fully frozen model still reports its loss; nothing is updated.
                warnings.warn("The model does not have any trainable weights.", stacklevel=2)
            self._update_metrics(loss, x.shape[0], y, y_pred, sample_weight)
        return self._metric_logs()

    def test_step(self, x, y, sample_weight=None):
        """Loss and metrics on one batch, without changing any weight."""
        with np.errstate(all="ignore"):
            y_pred, tape = self._forward(x, training=False)
            loss, _, _ = self.compute_loss(y, y_pred, tape, sample_weight)
            self._update_metrics(loss, x.shape[0], y, y_pred, sample_weight)
        return self._metric_logs()

    def _update_metrics(self, loss, batch_size, y, y_pred, sample_weight):
        # The epoch loss is a mean over batches weighted by batch size, as in Keras.
        self._loss_tracker.update_state(float(loss), sample_weight=batch_size)
        if self._compiled_metrics is None:
            self._build_metrics(y, y_pred)
        for _, metric, weighted in self._compiled_metrics:
            metric.update_state(y, y_pred, sample_weight=sample_weight if weighted else None)

    # ----------------------------------------------------------------------- fit

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains the model for `epochs` passes over (x, y). Returns a History.

        Args:
            x: inputs, (samples, ...). y: targets, (samples, ...).
            batch_size: samples per gradient step (default 32, or ceil(samples /
                steps_per_epoch) when only steps_per_epoch is given).
            epochs: index of the last epoch (training runs from initial_epoch to epochs).
            verbose: "auto" or 1 (progress bar), 2 (one line per epoch), 0 (silent).
            callbacks: list of Callback.
            validation_split: fraction of the data, taken from the end before any shuffling,
                held out for validation (ignored when validation_data is given).
            validation_data: (x_val, y_val) or (x_val, y_val, sample_weight_val).
            shuffle: reshuffle the training samples before each pass over them.
            class_weight: {class index: weight}, turned into per-sample loss weights of the
                training samples (a class not listed weighs 1). Exclusive with sample_weight.
            sample_weight: (samples,) per-sample loss weights.
            initial_epoch: epoch at which to start (to resume a previous run).
            steps_per_epoch: batches per epoch; one pass over the data then spans several
                epochs (see data.EpochBatches).
            validation_steps: batches per validation run (default: all of them).
            validation_batch_size: batch size for validation (default: batch_size).
            validation_freq: validate every `validation_freq` epochs (an int), or after the
                epochs listed (1-based).
        """
        self._check_compiled("fit")
        epochs = _check_int("epochs", epochs, minimum=0)
        initial_epoch = _check_int("initial_epoch", initial_epoch, minimum=0)
        verbose = _check_verbose(verbose)
        _check_validation_freq(validation_freq)
        for name, value in (("steps_per_epoch", steps_per_epoch),
                            ("validation_steps", validation_steps)):
            if value is not None:
                _check_int(name, value, minimum=1)
        if validation_batch_size is not None:
            data.check_batch_size(validation_batch_size, "validation_batch_size")
        if batch_size is not None:
            data.check_batch_size(batch_size)
        if class_weight is not None and sample_weight is not None:
            raise ValueError(
                "`class_weight` and `sample_weight` cannot be given together. Received: "
                f"class_weight={class_weight!r} and a sample_weight array"
            )
        x, y, sample_weight = self._prepare_data(x, y, sample_weight, "fit")
        val = None
        if validation_data is not None:
            val = self._unpack_validation_data(validation_data)
        elif validation_split:
            (x, y, sample_weight), val = data.split_validation([x, y, sample_weight],
                                                               validation_split)
        if class_weight is not None:
            # Only the training samples are class-weighted; validation is not.
            sample_weight = data.class_weights_to_sample_weights(class_weight, y)
        self._check_step_works(x, y, sample_weight)
        if val is not None:
            self._check_step_works(*val, sample_weight_name="validation_data[2]")

        batches = data.EpochBatches(
            x.shape[0], data.batch_size_for(batch_size, x.shape[0], steps_per_epoch),
            shuffle=bool(shuffle), steps_per_epoch=steps_per_epoch)
        callback_list = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                     model=self, verbose=verbose, epochs=epochs,
                                     steps=batches.steps)
        val_batch_size = None
        if val is not None:
            val_batch_size = data.batch_size_for(validation_batch_size or batch_size,
                                                 val[0].shape[0], validation_steps)
        self.stop_training = False
        self._fixed_step_weights = self._step_weights()
        with self._all_cores():
            try:
                callback_list.on_train_begin()
                # A callback (BackupAndRestore) may have restored an interrupted run's state.
                initial_epoch = self._initial_epoch or initial_epoch
                epoch_logs = None
                for epoch in range(initial_epoch, epochs):
                    self.reset_metrics()
                    callback_list.on_epoch_begin(epoch)
                    logs = {}
                    for step, batch in batches.epoch():
                        callback_list.on_train_batch_begin(step)
                        sw = None if sample_weight is None else sample_weight[batch]
                        logs = self.train_step(x[batch], y[batch], sw)
                        callback_list.on_train_batch_end(step, logs)
                        if self.stop_training:
                            break
                    epoch_logs = dict(logs)
                    if val is not None and _should_validate(epoch, validation_freq):
                        val_logs = self._evaluate_arrays(*val, val_batch_size, callback_list,
                                                         validation_steps)
                        epoch_logs.update({"val_" + key: value for key, value in val_logs.items()})
                    callback_list.on_epoch_end(epoch, epoch_logs)
                    if self.stop_training:
                        break
                if epochs > 0:
                    # With use_ema, the weights become their moving averages now (as Keras).
                    self.optimizer.finalize_variable_values(self._fixed_step_weights[0])
                callback_list.on_train_end(epoch_logs)
            finally:
                self._fixed_step_weights = None
        return callback_list.history

    def _prepare_data(self, x, y, sample_weight, method, names=("x", "y", "sample_weight")):
        """Checks and converts fit/evaluate's arrays. Raises before any weight changes.

        names: what errors call the three arrays (validation data has its own names)."""
        x_name, y_name, sw_name = names
        x = data.as_float(data.to_array(x_name, x), x_name)
        if y is None:
            raise ValueError(
                f"`{method}()` needs targets: `{y_name}` must be given. Received: {y_name}=None")
        y = data.as_float(data.to_array(y_name, y), y_name)
        if sample_weight is not None:
            sample_weight = data.check_sample_weight(sample_weight, sw_name)
        data.check_lengths(**{x_name: x, y_name: y, sw_name: sample_weight})
        self._check_input_shape(x)
        return x, y, sample_weight

    def _unpack_validation_data(self, validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, "
                f"val_sample_weight). Received: validation_data of type "
                f"{type(validation_data).__name__}"
            )
        x_val, y_val = validation_data[0], validation_data[1]
        sw_val = validation_data[2] if len(validation_data) == 3 else None
        return self._prepare_data(x_val, y_val, sw_val, "fit", names=(
            "validation_data[0]", "validation_data[1]", "validation_data[2]"))

    def _check_input_shape(self, x):
        """Builds the model from x if needed, else checks x fits the model's input shape."""
        if not self.built:
            self.build((None,) + x.shape[1:])
            return
        expected = self.input_shape[1:]
        got = x.shape[1:]
        if len(expected) != len(got) or any(e is not None and e != g
                                            for e, g in zip(expected, got)):
            raise ValueError(
                f"Input of model {self.name!r} is incompatible: expected shape="
                f"{self.input_shape}, found shape={(None,) + got}. Received: x.shape={x.shape}"
            )

    def _check_step_works(self, x, y, sample_weight, sample_weight_name="sample_weight"):
        """Checks, before any callback runs or any weight changes, that y fits the model's
        output and the loss: the model runs on two samples, and the loss sees every target
        (against stand-in predictions of 0.5), so a bad label anywhere is reported now."""
        with np.errstate(all="ignore"):     # overflow is the loss's to show, as in train_step
            y_pred, tape = self._forward(x[:2], training=False)
        sw = None if sample_weight is None else sample_weight[:2]
        try:
            stand_in = np.full((y.shape[0],) + y_pred.shape[1:], 0.5, dtype=y_pred.dtype)
            with np.errstate(all="ignore"):
                values = self.loss.forward(y, stand_in)[0]
        except ValueError as error:
            raise ValueError(
                f"The targets `y` do not fit the output of model {self.name!r} (shape "
                f"{(None,) + y_pred.shape[1:]}) and its loss. {error}"
            ) from None
        data.check_sample_weight_shape(sample_weight, np.shape(values), sample_weight_name)
        try:
            with np.errstate(all="ignore"):
                self.compute_loss(y[:2], y_pred, tape, sw)
        except ValueError as error:
            raise ValueError(
                f"The targets `y` do not fit the output of model {self.name!r} (shape "
                f"{(None,) + y_pred.shape[1:]}) and its loss. {error}"
            ) from None

    # ------------------------------------------------------------------ evaluate

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss and metrics over (x, y), in batches, without changing any weight.

        Returns the loss (a float) if there are no metrics, else a list in Keras's order
        (loss first), or a dict {name: value} when return_dict is True.
        """
        self._check_compiled("evaluate")
        verbose = _check_verbose(verbose)
        if batch_size is not None:
            data.check_batch_size(batch_size)
        if steps is not None:
            _check_int("steps", steps, minimum=1)
        x, y, sample_weight = self._prepare_data(x, y, sample_weight, "evaluate")
        self._check_step_works(x, y, sample_weight)
        batch_size = data.batch_size_for(batch_size, x.shape[0], steps)
        callback_list = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1,
                                     steps=data.EpochBatches(x.shape[0], batch_size,
                                                             steps_per_epoch=steps).steps)
        with self._all_cores():
            logs = self._evaluate_arrays(x, y, sample_weight, batch_size, callback_list, steps)
        return _sorted_dict(logs) if return_dict else self._logs_as_list(logs)

    def _evaluate_arrays(self, x, y, sample_weight, batch_size, callback_list, steps=None):
        """The evaluation loop shared by evaluate() and fit's validation."""
        # The training metrics' epoch values are already in the epoch logs: start afresh.
        self.reset_metrics()
        self.stop_evaluating = False
        callback_list.on_test_begin()
        logs = {}
        for step, batch in data.EpochBatches(x.shape[0], batch_size,
                                             steps_per_epoch=steps).epoch():
            callback_list.on_test_batch_begin(step)
            sw = None if sample_weight is None else sample_weight[batch]
            logs = self.test_step(x[batch], y[batch], sw)
            callback_list.on_test_batch_end(step, logs)
            if self.stop_evaluating:
                break
        callback_list.on_test_end(logs)
        return logs

    # ------------------------------------------------------------------- predict

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for x, computed in batches: (samples, *output_shape)."""
        verbose = _check_verbose(verbose)
        if batch_size is not None:
            data.check_batch_size(batch_size)
        if steps is not None:
            _check_int("steps", steps, minimum=1)
        x = data.as_float(data.to_array("x", x), "x")
        self._check_input_shape(x)
        batches = data.EpochBatches(x.shape[0], data.batch_size_for(batch_size, x.shape[0],
                                                                    steps),
                                    steps_per_epoch=steps)
        callback_list = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1, steps=batches.steps)
        self.stop_predicting = False
        callback_list.on_predict_begin()
        outputs = []
        with self._all_cores():
            for step, batch in batches.epoch():
                callback_list.on_predict_batch_begin(step)
                with np.errstate(all="ignore"):     # as in train_step
                    outputs.append(self._forward(x[batch], training=False)[0])
                callback_list.on_predict_batch_end(step, {"outputs": outputs[-1]})
                if self.stop_predicting:
                    break
        callback_list.on_predict_end()
        return np.concatenate(outputs, axis=0)

    # --------------------------------------------------------- single batches

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One optimizer step on exactly this batch. Returns loss (and metrics) of the batch."""
        self._check_compiled("train_on_batch")
        if class_weight is not None and sample_weight is not None:
            raise ValueError(
                "`class_weight` and `sample_weight` cannot be given together. Received: "
                f"class_weight={class_weight!r} and a sample_weight array"
            )
        x, y, sample_weight = self._prepare_data(x, y, sample_weight, "train_on_batch")
        if class_weight is not None:
            sample_weight = data.class_weights_to_sample_weights(class_weight, y)
        # A shape mismatch raises in compute_loss, before the optimizer changes any weight.
        self.reset_metrics()
        with self._all_cores():
            logs = self.train_step(x, y, sample_weight)
        return _sorted_dict(logs) if return_dict else self._logs_as_list(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss (and metrics) on exactly this batch, without training."""
        self._check_compiled("test_on_batch")
        x, y, sample_weight = self._prepare_data(x, y, sample_weight, "test_on_batch")
        self.reset_metrics()
        with self._all_cores():
            logs = self.test_step(x, y, sample_weight)
        return _sorted_dict(logs) if return_dict else self._logs_as_list(logs)

    def predict_on_batch(self, x):
        """The model's outputs for this one batch."""
        x = data.as_float(data.to_array("x", x), "x")
        self._check_input_shape(x)
        with self._all_cores():
            return self._forward(x, training=False)[0]

    # -------------------------------------------------------------- weights etc.

    def get_layer(self, name=None, index=None):
        """A layer by name or by position in `layers` (exactly one of the two)."""
        if (name is None) == (index is None):
            raise ValueError(
                "Provide either a layer name or a layer index to `get_layer()`. "
                f"Received: name={name!r}, index={index!r}"
            )
        layers = self.layers
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not (
                    -len(layers) <= index < len(layers)):
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model {self.name!r} only "
                    f"has {len(layers)} layers. Received: index={index!r}"
                )
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No such layer: {name}. Existing layers are: {[layer.name for layer in layers]}. "
            f"Received: name={name!r}"
        )

    def get_weights(self):
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        """Overwrites every weight, in `weights` order, checking count and shapes first."""
        params = self.weights
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(
                f"Model {self.name!r} expects {len(params)} weight arrays with shapes "
                f"{[p.shape for p in params]}. Received: {len(weights)} arrays"
            )
        for param, value in zip(params, weights):
            if np.shape(value) != param.shape:
                raise ValueError(
                    f"Weight {param.path!r} has shape {param.shape}; the provided array has "
                    f"shape {np.shape(value)}."
                )
        for param, value in zip(params, weights):
            param.assign(value)

    # ---------------------------------------------------------------- saving
    # The file formats live in minikeras/saving/; these are Keras's method names for them.

    def save(self, filepath, overwrite=True, **kwargs):
        """Writes the model (config, weights, optimizer state) to a Keras `.keras` file."""
        from minikeras.saving import saving_api

        saving_api.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite=True):
        """Writes the weights to a Keras `.weights.h5` file."""
        from minikeras.saving import saving_api

        saving_api.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False):
        """Reads weights from a `.weights.h5` (or `.keras`) file."""
        from minikeras.saving import saving_api

        saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def to_json(self, **kwargs):
        """The model's architecture as a JSON string (Keras's format)."""
        from minikeras.saving import saving_api

        return saving_api.model_to_json(self, **kwargs)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Prints a table of the layers, their output shapes and parameter counts (Keras's text;
        `expand_nested` changes nothing: minikeras models do not nest)."""
        from minikeras.utils.summary_utils import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      show_trainable=show_trainable, layer_range=layer_range)


def _sorted_dict(logs):
    """Keras returns its logs with the keys in alphabetical order."""
    return dict(sorted(logs.items()))


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(
            f"`{name}` must be an integer >= {minimum}. Received: {name}={value!r}"
        )
    return int(value)


def _check_verbose(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"`verbose` must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
    return verbose


def _check_validation_freq(validation_freq):
    if isinstance(validation_freq, (int, np.integer)) and not isinstance(validation_freq, bool):
        if validation_freq >= 1:
            return
    elif isinstance(validation_freq, (list, tuple)) and all(
            isinstance(e, (int, np.integer)) and not isinstance(e, bool)
            for e in validation_freq):
        return
    raise ValueError(
        "Expected `validation_freq` to be a positive integer or a list of epoch numbers. "
        f"Received: validation_freq={validation_freq!r}"
    )


def _should_validate(epoch, validation_freq):
    """validation_freq counts epochs from 1, as Keras does."""
    if isinstance(validation_freq, (list, tuple)):
        return epoch + 1 in validation_freq
    return (epoch + 1) % validation_freq == 0
