"""`Model`: compile, fit, evaluate and predict, the training loop a student can follow.

One training step (`train_step`) is the whole algorithm:

    y_pred = forward(x)                       every layer, first to last
    loss = loss_fn(y, y_pred) + penalties     the number being minimised
    grads = backward(dL/dy_pred)              every layer, last to first (backpropagation)
    optimizer.apply(grads, weights)           one step downhill

`fit` repeats it over mini-batches for a number of epochs and records the running means of the
loss and metrics in a History. How the layers connect is the model's graph (models/graph.py
runs it forward and backward): Sequential builds a chain, Functional (`Model(inputs, outputs)`)
any graph; everything else is shared here. Data is handled as lists, one array per model input
and one per output, whatever structure (array, list, dict) the user passed.
"""

import contextlib
import warnings

import numpy as np

from minikeras import backend
from minikeras import ops as ops_module
from minikeras import optimizers as optimizers_module
from minikeras.backend.eager_tensor import as_tensor
from minikeras.backend.keras_tensor import KerasTensor
from minikeras.callbacks import CallbackList
from minikeras.kernels import parallel
from minikeras.layers.layer import Layer
from minikeras.losses import reduce_weighted_values
from minikeras.metrics import Mean
from minikeras.models import compile_utils, data, data_adapters
from minikeras.ops import tape


class Model(Layer):
    """Base class of models: training and inference on NumPy arrays.

    `Model(inputs, outputs)` builds a functional model (models/functional.py), as in Keras.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from minikeras.models.functional import Functional

            return super().__new__(Functional)
        return super().__new__(cls)

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
        self._graph = None               # the layer graph (models/graph.py), once built

    # ---------------------------------------------------------------- the graph
    # A model is a graph of layer calls (models/graph.py). Functional builds it from its inputs
    # and outputs, Sequential from its stack; everything below runs it through `self._graph`.

    def _forward(self, x, training):
        """x: an array, or a list with one array per input. Returns (y_pred, tape): y_pred is
        an array, or a list with one array per output; the tape is what _backward needs."""
        outputs, tape = self._graph.forward(x if isinstance(x, list) else [x], training)
        return (outputs[0] if len(outputs) == 1 else outputs), tape

    def _backward(self, dy, tape, from_logits=False):
        """Backpropagates dL/dy_pred (an array, or a list per output; dL/d(logits) where
        from_logits says so). Returns one gradient per trainable weight."""
        if not isinstance(dy, list):
            dy, from_logits = [dy], [from_logits]
        _, layer_grads = self._graph.backward(dy, tape, from_logits)
        return self._gradients_in_weight_order(layer_grads)

    def _gradients_in_weight_order(self, layer_grads):
        """{layer: its gradients} -> one list aligned with self.trainable_weights. A layer no
        gradient reached (its branch does not lead to a loss) gets zeros."""
        grads = []
        for layer in self._graph.called_layers:
            layer_grad = layer_grads.get(layer)
            if layer_grad is None:
                layer_grad = [np.zeros_like(w.value) for w in layer.trainable_weights]
            grads.extend(layer_grad)
        if self._graph.repeats_weights:
            grads = _sum_repeated(
                [w for layer in self._graph.called_layers for w in layer.trainable_weights],
                grads)
        return grads

    def _output_logits(self, tape):
        """The logits behind a sigmoid/softmax output, or None."""
        return self._graph.output_logits(tape, 0)

    def _penalty(self, tape):
        """Activity-regularization penalty collected during _forward (0.0 if none)."""
        return tape.penalty

    # The layer contract, for a model used as a layer inside another model.

    def forward(self, x, training=False):
        """x: an array or a list of arrays (one per input). Returns (y, tape)."""
        self._require_graph()
        return self._forward(x, training)

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dout: dL/dy (a list for several outputs). Returns (dx, grads): dx like x, grads
        aligned with trainable_weights ([] when the model is frozen)."""
        douts = dout if isinstance(dout, list) else [dout]
        flags = [from_logits] + [False] * (len(douts) - 1)
        input_grads, layer_grads = self._graph.backward(
            douts, cache, flags, need_input_gradient=need_input_gradient)
        grads = self._gradients_in_weight_order(layer_grads) if self.trainable else []
        return (input_grads if len(input_grads) > 1 else input_grads[0]), grads

    def output_logits(self, cache):
        if len(self._graph.outputs) != 1:
            return None
        return self._graph.output_logits(cache, 0)

    def _require_graph(self):
        if getattr(self, "_graph", None) is None:
            raise ValueError(
                f"Model {self.name!r} has not been built yet: it has no layers connected to an "
                "input. Build it (or call it on data) first."
            )

    def __call__(self, x, training=False, **kwargs):
        if _is_symbolic(x):
            return self._call_symbolic(x)
        if tape.active_trace() is not None or tape.any_tracked(x):
            # Inside a training step or a GradientTape block: one node on the tape, whose
            # backward is this model's (graph executor or traced call).
            self._maybe_build_from(tape.unwrap(x))
            return tape.record_layer(self, x, bool(training), {})
        xs = self._input_arrays(x, "x")
        self._check_input_arrays(xs)
        y_pred = self._graph.forward(xs, training)[0]
        # `.numpy()` on the outputs, as on TensorFlow (dicts of outputs item by item).
        return _map_outputs(as_tensor, self._structure_outputs(y_pred))

    @property
    def layers(self):
        """The layers of the graph, Keras's order (InputLayers included, as Keras lists them for
        a functional model); a subclassed model's layers set as attributes."""
        if getattr(self, "_graph", None) is None:
            return self._sublayers() if self._has_call() else []
        return [layer for layer in self._graph.layers]

    def build(self, input_shape=None):
        """A subclassed model (one with a `call`) is built by running its call once on
        zeros of `input_shape` (batch axis first), which builds its layers."""
        if not self._has_call() and not self._overrides("train_step"):
            self.built = True
            return
        if input_shape is None:
            raise ValueError(
                f"Model {self.name!r} needs an input shape to be built. Received: "
                "input_shape=None"
            )
        from minikeras.models.call_graph import CallGraph

        self._graph = CallGraph(self, input_shape)
        self.built = True
        self._built_on_shape = input_shape      # a .keras file records it (build_config)

    @property
    def input_shape(self):
        shapes = [t.shape for t in self._graph.inputs]
        return shapes if len(shapes) > 1 else shapes[0]

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        # As Keras: freezing (or unfreezing) a model sets every layer in it, nested ones too.
        self._trainable = bool(value)
        for layer in self.layers:
            layer.trainable = value

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return _unique([w for layer in self.layers for w in layer.trainable_weights])

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return _unique([w for layer in self.layers for w in layer.non_trainable_weights])

    @property
    def weights(self):
        """Layer by layer, each layer's weights in its own order (as Keras lists them)."""
        return _unique([w for layer in self.layers for w in layer.weights])

    # -------------------------------------------------- structured data (lists, dicts)

    def _input_names(self):
        return [tensor.name for tensor in self._graph.inputs]

    def output_names_list(self):
        """The name of each output: its key when the outputs were given as a dict, else
        (as Keras) the name of the layer that made it."""
        if getattr(self, "_output_keys", None) is not None:
            return list(self._output_keys)
        return [tensor._keras_history[0].name for tensor in self._graph.outputs]

    @property
    def output_names(self):
        return self.output_names_list()

    def _input_arrays(self, x, name):
        """x: one array, a list (one per input) or a dict (by input name) -> a list of
        arrays, each converted to its Input's dtype (integer inputs stay integer)."""
        self._maybe_build_from(x)
        arrays = _flatten_structure(x, self._input_names(), name, "input",
                                    getattr(self, "_input_keys", None))
        result = []
        for index, (array, tensor) in enumerate(zip(arrays, self._graph.inputs)):
            array_name = name if len(arrays) == 1 else f"{name}[{index}]"
            array = data.to_array(array_name, array)
            if tensor.dtype == backend.floatx():
                array = data.as_float(array, array_name)     # reports values beyond float32
            elif array.dtype != tensor.dtype:
                array = array.astype(tensor.dtype)
            result.append(array)
        return result

    def _target_arrays(self, y, name="y"):
        """y like x, for the outputs (dict keys: output names). Targets are floats."""
        arrays = _flatten_structure(y, self.output_names_list(), name, "output",
                                    getattr(self, "_output_keys", None))
        result = []
        for index, array in enumerate(arrays):
            array_name = name if len(arrays) == 1 else f"{name}[{index}]"
            result.append(data.as_float(data.to_array(array_name, array), array_name))
        return result

    def _maybe_build_from(self, x):
        """Sequential without an input shape builds itself from the first data it sees."""
        if getattr(self, "_graph", None) is None and isinstance(x, (list, tuple)) and (
                self._has_call() or self._overrides("train_step")):
            self.build([(None,) + data.to_array("x", a).shape[1:] for a in x])
        if getattr(self, "_graph", None) is None and not isinstance(x, (dict, list, tuple)):
            array = data.to_array("x", x)
            self.build((None,) + array.shape[1:])
        self._require_graph()

    def _structure_outputs(self, outputs):
        """A list of output arrays -> what Keras returns: the array for a single output, a
        dict when the model's outputs were given as a dict, else the list."""
        keys = getattr(self, "_output_keys", None)
        if keys is not None:
            return dict(zip(keys, outputs))
        return outputs[0] if len(outputs) == 1 else list(outputs)

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
            loss: name ("binary_crossentropy"), loss function or Loss instance; for a model
                with several outputs also a list (one per output) or a dict {output name:
                loss} (one loss alone applies to every output).
            loss_weights: factor(s) applied to the loss(es): a number, a list or a dict.
            metrics: list of metric names, functions or Metric instances ("accuracy" is
                resolved from the targets' and predictions' shapes); with several outputs, a
                list of lists or a dict {output name: list}.
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
        names = self._compile_output_names()
        output_losses = compile_utils.resolve_losses(loss, names)
        output_loss_weights = compile_utils.resolve_loss_weights(loss_weights, names)
        output_metrics = compile_utils.metrics_per_output("metrics", metrics, names)
        output_weighted = compile_utils.metrics_per_output("weighted_metrics",
                                                           weighted_metrics, names)
        self.optimizer = new_optimizer
        self._output_losses = output_losses
        self._output_loss_weights = output_loss_weights
        self._output_metric_identifiers = output_metrics
        self._output_weighted_identifiers = output_weighted
        # The single-output view (what saving writes and older code reads).
        self.loss = output_losses[0] if len(names) == 1 else loss
        self.loss_weight = output_loss_weights[0]
        self._metric_identifiers = output_metrics[0] if len(names) == 1 else metrics
        self._weighted_metric_identifiers = (output_weighted[0] if len(names) == 1
                                             else weighted_metrics)
        self._compiled_metrics = None
        self._loss_tracker = Mean(name="loss")
        # Keras logs each output's own loss ("dense_1_loss") when there are several outputs.
        self._output_loss_trackers = []
        if len(names) > 1:
            self._output_loss_trackers = [
                (i, Mean(name=f"{names[i]}_loss")) for i, out_loss in enumerate(output_losses)
                if out_loss is not None]
        self.compiled = True

    def _compile_output_names(self):
        if getattr(self, "_graph", None) is None:
            return [None]   # an unbuilt Sequential: one output, named once built
        return self.output_names_list()

    def _check_compiled(self, method):
        # Keras raises ValueError here (not RuntimeError): match it, so `except` clauses agree.
        if not self.compiled:
            raise ValueError(
                f"You must call `compile()` before using the model: `{method}()` needs a loss "
                f"and an optimizer. Model {self.name!r} is not compiled."
            )

    def _build_metrics(self, ys, y_preds):
        """Creates the compiled metrics once the shapes of the targets and predictions are
        known.

        Each gets its History key as Keras names it: its own name, "name_1", ... for repeats,
        and "weighted_name" for a weighted metric whose name is already taken; with several
        outputs, prefixed by the output's name ("dense_1_accuracy").
        """
        several = len(ys) > 1
        names = self.output_names_list() if several else [None]
        compiled = []
        for index in range(len(ys)):
            taken = {}
            prefix = f"{names[index]}_" if several else ""
            for identifiers, weighted in ((self._output_metric_identifiers[index], False),
                                          (self._output_weighted_identifiers[index], True)):
                for identifier in identifiers:
                    metric = compile_utils.build_metric(identifier, ys[index], y_preds[index])
                    key = metric.name
                    if key in taken and weighted:
                        key = "weighted_" + metric.name
                    if key in taken:
                        taken[key] += 1
                        key = f"{key}_{taken[key] - 1}"
                    else:
                        taken[key] = 1
                    compiled.append((prefix + key, metric, weighted, index))
        self._compiled_metrics = compiled

    @property
    def metrics(self):
        """The loss tracker, the compiled metrics, then each output's loss tracker."""
        if not self.compiled:
            return []
        tracked = [self._loss_tracker]
        if self._compiled_metrics is not None:
            tracked += [metric for _, metric, _, _ in self._compiled_metrics]
        tracked += [tracker for _, tracker in self._output_loss_trackers]
        return tracked

    @property
    def metrics_names(self):
        """The History keys of the loss and the metrics ("loss", "accuracy", ...)."""
        if not self.compiled:
            return []
        names = ["loss"]
        if self._compiled_metrics is not None:
            names += [key for key, _, _, _ in self._compiled_metrics]
        names += [tracker.name for _, tracker in self._output_loss_trackers]
        return names

    def reset_metrics(self):
        for metric in self.metrics:
            metric.reset_state()

    def _metric_logs(self):
        # Keras's results are floatx values (float32 by default) made Python floats, so a
        # printed accuracy reads 0.8640000224113464 on both engines.
        floatx = backend.floatx()
        logs = {"loss": float(np.asarray(self._loss_tracker.result(), dtype=floatx))}
        for _, tracker in self._output_loss_trackers:
            logs[tracker.name] = float(np.asarray(tracker.result(), dtype=floatx))
        for key, metric, _, _ in self._compiled_metrics or []:
            # Most metrics give a number; some (F1Score, Precision at several thresholds)
            # give an array, which Keras logs as it is.
            value = np.asarray(metric.result(), dtype=floatx)
            logs[key] = float(value) if value.ndim == 0 else value
        if self._output_loss_trackers:
            return _sorted_dict(logs)       # Keras's multi-output logs come sorted by key
        return logs

    def _logs_as_list(self, logs):
        """evaluate()/..._on_batch() values without return_dict, in Keras's order: each metric
        object's own name looked up in the logs, then the remaining keys sorted. (So a metric
        given both in `metrics` and `weighted_metrics` appears twice, as in Keras; with
        several outputs the metrics' names lack the output prefix and land in the sorted
        rest, after the outputs' losses, as in Keras.)"""
        names = [metric.name for metric in self.metrics]
        values = [logs[name] for name in names if name in logs]
        values += [logs[key] for key in sorted(logs) if key not in names]
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------ the step maths

    def _loss_and_output_gradients(self, y, y_pred, tape, sample_weight=None):
        """The loss to minimise and its gradient with respect to the model's output(s).

        y, y_pred: arrays, or lists with one array per output. Returns (loss, dy,
        from_logits): dy is dL/d(y_pred), or dL/d(logits) when the output came from a
        sigmoid/softmax and the loss is a cross-entropy (from_logits is then True); lists
        when y_pred is a list.
        """
        several = isinstance(y_pred, list)
        ys = y if several else [y]
        y_preds = y_pred if several else [y_pred]
        loss, _, dys, flags = self._compute_losses(ys, y_preds, tape, sample_weight)
        if several:
            return loss, dys, flags
        return loss, dys[0], flags[0]

    # Keras's overridable step methods. A train_step override gets gradients from the tape:
    #
    #     with keras.ops.GradientTape() as tape:      # minikeras's gradient context
    #         y_pred = self(x, training=True)
    #         loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
    #     grads = tape.gradient(loss, self.trainable_weights)
    #     self.optimizer.apply(grads, self.trainable_weights)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss (Keras's signature): the compiled losses of y_pred against y, the
        losses added with add_loss during the call, and the weight penalties. Inside a
        GradientTape block it is a tracked scalar whose gradient flows back to the weights;
        on plain arrays, a float."""
        several = isinstance(y_pred, (list, tuple))
        preds = list(y_pred) if several else [y_pred]
        terms = []
        if y is not None and any(loss_fn is not None for loss_fn in self._output_losses):
            ys = self._target_arrays(list(y) if several else y)
            terms.append(_compiled_loss_op(self, ys, preds, sample_weight))
        trace = tape.active_trace()
        if trace is not None:
            terms.extend(trace.losses)
            for weight in self.trainable_weights:
                if weight.regularizer is not None:
                    terms.append(_penalty_op(weight, trace.leaf(weight)))
        else:
            terms.append(self._weight_penalty())
        total = terms[0] if terms else 0.0
        for term in terms[1:]:
            total = ops_module.add(total, term)
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics with one batch; returns every metric's result."""
        y_preds = [tape.unwrap(p) for p in y_pred] if isinstance(y_pred, (list, tuple)) \
            else [tape.unwrap(y_pred)]
        ys = self._target_arrays(list(y) if isinstance(y, (list, tuple)) else y)
        if self._compiled_metrics is None:
            self._build_metrics(ys, y_preds)
        for _, metric, weighted, index in self._compiled_metrics:
            metric.update_state(ys[index], y_preds[index],
                                sample_weight=sample_weight if weighted else None)
        return self.get_metrics_result()

    def get_metrics_result(self):
        """{name: result} for every metric in `self.metrics`."""
        results = {}
        for metric in self.metrics:
            value = metric.result()
            if isinstance(value, dict):
                results.update(value)
            else:
                results[metric.name] = value
        return results

    def _overrides(self, name):
        return getattr(type(self), name) is not getattr(Model, name)

    def _tape_train_step(self, x, y, sample_weight):
        """The default step through the tape, used when compute_loss is overridden."""
        x_in = x if len(x) > 1 else x[0]
        y_in = y if len(y) > 1 else (y[0] if y else None)
        with tape.GradientTape() as gradient_tape:
            y_pred = self(x_in, training=True)
            loss = self._call_compute_loss(x_in, y_in, y_pred, sample_weight, True)
        weights = self.trainable_weights
        grads = gradient_tape.gradient(loss, weights)
        self.optimizer.apply([np.zeros_like(w.value) if g is None else g
                              for g, w in zip(grads, weights)], weights)
        self._loss_tracker.update_state(float(tape.unwrap(loss)), sample_weight=x[0].shape[0])
        return _log_values(self.compute_metrics(x_in, y_in, y_pred, sample_weight))

    def _tape_test_step(self, x, y, sample_weight):
        x_in = x if len(x) > 1 else x[0]
        y_in = y if len(y) > 1 else (y[0] if y else None)
        y_pred = self(x_in, training=False)
        loss = self._call_compute_loss(x_in, y_in, y_pred, sample_weight, False)
        self._loss_tracker.update_state(float(tape.unwrap(loss)), sample_weight=x[0].shape[0])
        return _log_values(self.compute_metrics(x_in, y_in, y_pred, sample_weight))

    def _call_compute_loss(self, x, y, y_pred, sample_weight, training):
        # Overrides written before Keras 3.3 have no `training` argument.
        import inspect

        if "training" in inspect.signature(self.compute_loss).parameters:
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)

    def _run_step(self, name, x, y, sample_weight):
        """fit/evaluate's call of train_step / test_step for one batch (x, y: lists of
        arrays). A Keras-style override `train_step(self, data)` receives `data` as Keras
        gives it: (x, y), (x, y, sample_weight), or x alone when there are no targets."""
        if not self._overrides(name):
            return getattr(self, name)(x, y, sample_weight)
        if self._compiled_metrics is None and y and self.compiled:
            # An override reads `self.metrics` from its first step on: the compiled metrics
            # must exist by then (built from two samples' shapes, as the default step does).
            y_preds = self._graph.forward([a[:2] for a in x], training=False)[0]
            self._build_metrics([a[:2] for a in y], y_preds)
        x_in = x if len(x) > 1 else x[0]
        if not y:
            data = x_in
        else:
            data = (x_in, y if len(y) > 1 else y[0])
            if sample_weight is not None:
                data = data + (sample_weight,)
        return _log_values(getattr(self, name)(data))

    def _compute_losses(self, ys, y_preds, tape, sample_weight):
        """Returns (total loss, [each output's unweighted loss], [dL/d(output) or None],
        [whether that gradient is dL/d(logits)]).

        total = sum over outputs of loss_weight * loss + activity and weight penalties.
        An output's mask (a sequence model's padded steps) weighs its masked entries 0.
        """
        masks = self._graph.output_masks(tape) if tape.masks is not None else None
        total = 0.0
        output_values, dys, flags = [], [], []
        for index, loss_fn in enumerate(self._output_losses):
            if loss_fn is None:
                output_values.append(None)
                dys.append(None)
                flags.append(False)
                continue
            logits = None
            if loss_fn.accepts_output_logits:
                logits = self._graph.output_logits(tape, index)
            weights = sample_weight
            if masks is not None and masks[index] is not None:
                weights = _apply_mask(sample_weight, masks[index], loss_fn.reduction)
            values, loss_cache = loss_fn.forward(ys[index], y_preds[index], logits=logits)
            loss, dvalues = reduce_weighted_values(values, weights, loss_fn.reduction)
            output_values.append(loss)
            loss_weight = self._output_loss_weights[index]
            if loss_weight != 1.0:
                dvalues = dvalues * loss_weight
                loss = loss * loss_weight
            dys.append(loss_fn.backward(dvalues, loss_cache))
            flags.append(logits is not None)
            total = total + loss
        total += self._penalty(tape) + self._weight_penalty()
        return total, output_values, dys, flags

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

    def _gradients(self, dys, tape, flags):
        """Backpropagation plus the regularizers' gradients, one per trainable weight.
        dys, flags: lists, one per output (or a single array and bool)."""
        if not isinstance(dys, list):
            dys, flags = [dys], [flags]
        _, layer_grads = self._graph.backward(dys, tape, flags)
        grads = self._gradients_in_weight_order(layer_grads)
        if self._fixed_step_weights is not None and \
                len(grads) != len(self._fixed_step_weights[0]):
            # A callback changed some layer's `trainable` during fit(): collect them again.
            self._fixed_step_weights = None
            self._fixed_step_weights = self._step_weights()
        for i, weight in self._step_weights()[1]:
            grads[i] = grads[i] + weight.regularizer.gradient(weight.value)
        return grads

    def train_step(self, x, y=None, sample_weight=None):
        """One optimizer step on one batch. x, y: lists of arrays, one per input / output.
        Returns the logs so far this epoch. (Called as Keras's `train_step(data)`, from an
        override's `super().train_step(data)`, it unpacks `data` first.)"""
        if y is None:
            x, y, sample_weight = self._unpack_data(x)
        if self._overrides("compute_loss"):
            return self._tape_train_step(x, y, sample_weight)
        # A diverging run overflows somewhere in here; as in Keras, that shows as a nan/inf
        # loss in the logs (TerminateOnNaN acts on it), not as NumPy RuntimeWarnings.
        with np.errstate(all="ignore"):
            y_pred, tape = self._graph.forward(x, training=True)
            loss, output_losses, dys, flags = self._compute_losses(y, y_pred, tape,
                                                                   sample_weight)
            grads = self._gradients(dys, tape, flags)
            weights = self._step_weights()[0]
            if weights:
                self.optimizer.apply(grads, weights)
            else:
                # As Keras: a fully frozen model still reports its loss; nothing is updated.
                warnings.warn("The model does not have any trainable weights.", stacklevel=2)
            self._update_metrics(loss, output_losses, x[0].shape[0], y, y_pred, tape,
                                 sample_weight)
        return self._metric_logs()

    def test_step(self, x, y=None, sample_weight=None):
        """Loss and metrics on one batch, without changing any weight."""
        if y is None:
            x, y, sample_weight = self._unpack_data(x)
        if self._overrides("compute_loss"):
            return self._tape_test_step(x, y, sample_weight)
        with np.errstate(all="ignore"):
            y_pred, tape = self._graph.forward(x, training=False)
            loss, output_losses, _, _ = self._compute_losses(y, y_pred, tape, sample_weight)
            self._update_metrics(loss, output_losses, x[0].shape[0], y, y_pred, tape,
                                 sample_weight)
        return self._metric_logs()

    def _unpack_data(self, data):
        """Keras's `data` (x, (x, y) or (x, y, sample_weight)) -> lists of arrays."""
        if isinstance(data, tuple) and len(data) in (2, 3):
            x, y = data[0], data[1]
            sample_weight = data[2] if len(data) == 3 else None
        else:
            x, y, sample_weight = data, None, None
        x = self._input_arrays(x, "x")
        y = [] if y is None else self._target_arrays(y)
        return x, y, sample_weight

    def _update_metrics(self, loss, output_losses, batch_size, ys, y_preds, tape,
                        sample_weight):
        # The epoch loss is a mean over batches weighted by batch size, as in Keras.
        self._loss_tracker.update_state(float(loss), sample_weight=batch_size)
        for index, tracker in self._output_loss_trackers:
            # Keras on TensorFlow averages each output's loss over batches with equal
            # weights (a short last batch counts as much as a full one): measured, and
            # matched here.
            tracker.update_state(float(output_losses[index]))
        if self._compiled_metrics is None:
            self._build_metrics(ys, y_preds)
        masks = self._graph.output_masks(tape) if tape.masks is not None else None
        for _, metric, weighted, index in self._compiled_metrics:
            weights = sample_weight if weighted else None
            if masks is not None and masks[index] is not None:
                # Keras's metrics skip masked entries too (weight 0), without rescaling.
                weights = _apply_mask(weights, masks[index], None)
            metric.update_state(ys[index], y_preds[index], sample_weight=weights)

    # ----------------------------------------------------------------------- fit

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains the model for `epochs` passes over (x, y). Returns a History.

        Args:
            x: inputs, (samples, ...). y: targets, (samples, ...). Or x alone as a
                tf.data.Dataset, a generator or a keras.utils.PyDataset giving batches
                (x, y) or (x, y, sample_weight); see data_adapters.py.
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
        if data_adapters.is_stream(x):
            batches, val = self._stream_fit_data(x, y, sample_weight, batch_size, class_weight,
                                                 validation_split, validation_data,
                                                 steps_per_epoch, validation_steps, shuffle)
            val_batch_size = None if not isinstance(val, tuple) else data.batch_size_for(
                validation_batch_size, val[0][0].shape[0], validation_steps)
            return self._fit_batches(batches, val, val_batch_size, epochs, initial_epoch,
                                     verbose, callbacks, validation_freq, validation_steps)
        x, y, sample_weight = self._prepare_data(x, y, sample_weight, "fit")
        val = None
        if validation_data is not None and data_adapters.is_stream(validation_data):
            val = data_adapters.StreamBatches(validation_data, self._convert_batch,
                                              validation_steps)
        elif validation_data is not None:
            val = self._unpack_validation_data(validation_data)
        elif validation_split:
            train, val = data.split_validation(x + y + [sample_weight], validation_split)
            x, y, sample_weight = train[:len(x)], train[len(x):-1], train[-1]
            val = (val[:len(x)], val[len(x):-1], val[-1])
        if class_weight is not None:
            # Only the training samples are class-weighted; validation is not.
            sample_weight = data.class_weights_to_sample_weights(
                class_weight, _single_target(y, "class_weight"))
        self._check_step_works(x, y, sample_weight)
        if isinstance(val, tuple):
            self._check_step_works(*val, sample_weight_name="validation_data[2]")

        n = x[0].shape[0]
        batches = data_adapters.ArrayBatches(x, y, sample_weight, data.EpochBatches(
            n, data.batch_size_for(batch_size, n, steps_per_epoch),
            shuffle=bool(shuffle), steps_per_epoch=steps_per_epoch))
        val_batch_size = None
        if isinstance(val, tuple):
            val_batch_size = data.batch_size_for(validation_batch_size or batch_size,
                                                 val[0][0].shape[0], validation_steps)
        return self._fit_batches(batches, val, val_batch_size, epochs, initial_epoch, verbose,
                                 callbacks, validation_freq, validation_steps)

    def _fit_batches(self, batches, val, val_batch_size, epochs, initial_epoch, verbose,
                     callbacks, validation_freq, validation_steps=None):
        """fit's epochs. batches: data_adapters.ArrayBatches or StreamBatches; val: None,
        (xs, ys, sample_weight) arrays (cut into val_batch_size batches) or StreamBatches."""
        callback_list = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                     model=self, verbose=verbose, epochs=epochs,
                                     steps=batches.steps)
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
                    for step, (xb, yb, swb) in batches.epoch():
                        callback_list.on_train_batch_begin(step)
                        logs = self._run_step("train_step", xb, yb, swb)
                        callback_list.on_train_batch_end(step, logs)
                        if self.stop_training:
                            break
                    epoch_logs = dict(logs)
                    if val is not None and _should_validate(epoch, validation_freq):
                        if isinstance(val, tuple):
                            val_logs = self._evaluate_arrays(*val, val_batch_size,
                                                             callback_list, validation_steps)
                        else:
                            val_logs = self._evaluate_batches(val, callback_list)
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

    def _stream_fit_data(self, x, y, sample_weight, batch_size, class_weight,
                         validation_split, validation_data, steps_per_epoch, validation_steps,
                         shuffle):
        """fit's batches and validation batches when x is a dataset, generator or PyDataset."""
        data_adapters.check_stream_arguments("fit", y, sample_weight, batch_size,
                                             class_weight=class_weight)
        if validation_split:
            raise ValueError("`validation_split` is only supported for NumPy arrays, not for "
                             "a dataset, generator or PyDataset. Received: "
                             f"validation_split={validation_split!r}")
        data_adapters.build_from_stream(self, x)
        batches = data_adapters.StreamBatches(x, self._convert_batch, steps_per_epoch,
                                              shuffle=bool(shuffle))
        if validation_data is None:
            return batches, None
        if data_adapters.is_stream(validation_data):
            return batches, data_adapters.StreamBatches(validation_data, self._convert_batch,
                                                        validation_steps)
        return batches, self._unpack_validation_data(validation_data)

    def _convert_batch(self, x, y, sample_weight):
        """One batch read from a dataset or generator -> lists of arrays for the step."""
        return data_adapters.model_batch(self, x, y, sample_weight)

    def _prepare_data(self, x, y, sample_weight, method, names=("x", "y", "sample_weight")):
        """Checks and converts fit/evaluate's data into lists of arrays, one per input and
        one per output. Raises before any weight changes.

        names: what errors call the three arguments (validation data has its own names)."""
        x_name, y_name, sw_name = names
        if x is None:
            raise ValueError(
                f"`{method}()` needs inputs: `{x_name}` must be given. Received: {x_name}=None")
        x = self._input_arrays(x, x_name)
        if y is None and (self._overrides("train_step") or self._overrides("test_step")):
            # A custom step may train without targets (an autoencoder's loss from add_loss).
            y = []
        elif y is None:
            raise ValueError(
                f"`{method}()` needs targets: `{y_name}` must be given. Received: {y_name}=None")
        else:
            y = self._target_arrays(y, y_name)
        if sample_weight is not None:
            sample_weight = data.check_sample_weight(sample_weight, sw_name)
        arrays = {x_name if len(x) == 1 else f"{x_name}[{i}]": a for i, a in enumerate(x)}
        arrays.update({y_name if len(y) == 1 else f"{y_name}[{i}]": a for i, a in enumerate(y)})
        arrays[sw_name] = sample_weight
        data.check_lengths(**arrays)
        self._check_input_arrays(x)
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

    def _check_input_arrays(self, xs):
        """Checks each input array fits its Input's shape (the batch axis aside)."""
        for index, (x, tensor) in enumerate(zip(xs, self._graph.inputs)):
            expected = tensor.shape[1:]
            got = x.shape[1:]
            if len(expected) != len(got) or any(e is not None and e != g
                                                for e, g in zip(expected, got)):
                which = "" if len(xs) == 1 else f" {index} ({tensor.name!r})"
                raise ValueError(
                    f"Input{which} of model {self.name!r} is incompatible: expected shape="
                    f"{tensor.shape}, found shape={(None,) + got}. Received: x.shape={x.shape}"
                )

    def _check_step_works(self, x, y, sample_weight, sample_weight_name="sample_weight"):
        """Checks, before any callback runs or any weight changes, that y fits the model's
        outputs and the losses: the model runs on two samples, and each loss sees every
        target (against stand-in predictions of 0.5), so a bad label anywhere is reported
        now."""
        if self._overrides("train_step") or self._overrides("compute_loss"):
            return      # the custom step decides what the targets mean
        # Two samples, or the static batch size a stateful RNN insists on; its carried
        # states are put back afterwards, so the check changes nothing.
        n = self._graph.inputs[0].shape[0] or 2
        stateful = _stateful_layers(self)
        saved = [layer.states for layer in stateful]
        try:
            with np.errstate(all="ignore"):     # overflow is the loss's to show, as in train_step
                y_pred, tape = self._graph.forward([a[:n] for a in x], training=False)
        finally:
            for layer, states in zip(stateful, saved):
                layer.states = states
        sw = None if sample_weight is None else sample_weight[:n]
        names = self.output_names_list()
        for index, (target, prediction) in enumerate(zip(y, y_pred)):
            loss_fn = self._output_losses[index]
            if loss_fn is None:
                continue
            try:
                stand_in = np.full((target.shape[0],) + prediction.shape[1:], 0.5,
                                   dtype=prediction.dtype)
                with np.errstate(all="ignore"):
                    values = loss_fn.forward(target, stand_in)[0]
            except ValueError as error:
                which = f"y[{index}] (output {names[index]!r})" if len(y) > 1 else "`y`"
                raise ValueError(
                    f"The targets {which} do not fit the output of model {self.name!r} "
                    f"(shape {(None,) + prediction.shape[1:]}) and its loss. {error}"
                ) from None
            data.check_sample_weight_shape(sample_weight, np.shape(values), sample_weight_name)
        try:
            with np.errstate(all="ignore"):
                self._compute_losses([a[:n] for a in y], y_pred, tape, sw)
        except ValueError as error:
            raise ValueError(
                f"The targets `y` do not fit the output of model {self.name!r} and its loss. "
                f"{error}"
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
        if data_adapters.is_stream(x):
            data_adapters.check_stream_arguments("evaluate", y, sample_weight, batch_size)
            data_adapters.build_from_stream(self, x)
            batches = data_adapters.StreamBatches(x, self._convert_batch, steps)
            callback_list = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                         verbose=verbose, epochs=1, steps=batches.steps)
            with self._all_cores():
                logs = self._evaluate_batches(batches, callback_list)
            return _sorted_dict(logs) if return_dict else self._logs_as_list(logs)
        x, y, sample_weight = self._prepare_data(x, y, sample_weight, "evaluate")
        self._check_step_works(x, y, sample_weight)
        batch_size = data.batch_size_for(batch_size, x[0].shape[0], steps)
        callback_list = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1,
                                     steps=data.EpochBatches(x[0].shape[0], batch_size,
                                                             steps_per_epoch=steps).steps)
        with self._all_cores():
            logs = self._evaluate_arrays(x, y, sample_weight, batch_size, callback_list, steps)
        return _sorted_dict(logs) if return_dict else self._logs_as_list(logs)

    def _evaluate_arrays(self, x, y, sample_weight, batch_size, callback_list, steps=None):
        """The evaluation loop shared by evaluate() and fit's validation, on arrays."""
        return self._evaluate_batches(data_adapters.ArrayBatches(
            x, y, sample_weight,
            data.EpochBatches(x[0].shape[0], batch_size, steps_per_epoch=steps)),
            callback_list)

    def _evaluate_batches(self, batches, callback_list):
        """The evaluation loop over ArrayBatches or StreamBatches."""
        # The training metrics' epoch values are already in the epoch logs: start afresh.
        self.reset_metrics()
        self.stop_evaluating = False
        callback_list.on_test_begin()
        logs = {}
        for step, (xb, yb, swb) in batches.epoch():
            callback_list.on_test_batch_begin(step)
            logs = self._run_step("test_step", xb, yb, swb)
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
        if data_adapters.is_stream(x):
            data_adapters.check_stream_arguments("predict", batch_size=batch_size)
            data_adapters.build_from_stream(self, x)
            # Only the inputs of each batch count (targets in it are ignored, as in Keras).
            batches = data_adapters.StreamBatches(
                x, lambda xb, yb, swb: (self._input_arrays(xb, "x"), None, None), steps)
        else:
            x = self._input_arrays(x, "x")
            self._check_input_arrays(x)
            n = x[0].shape[0]
            if len(x) > 1:
                data.check_lengths(**{f"x[{i}]": a for i, a in enumerate(x)})
            batches = data_adapters.ArrayBatches(x, [], None, data.EpochBatches(
                n, data.batch_size_for(batch_size, n, steps), steps_per_epoch=steps))
        callback_list = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1, steps=batches.steps)
        self.stop_predicting = False
        callback_list.on_predict_begin()
        outputs = []
        with self._all_cores():
            for step, (xb, _, _) in batches.epoch():
                callback_list.on_predict_batch_begin(step)
                with np.errstate(all="ignore"):     # as in train_step
                    outputs.append(self._graph.forward(xb, training=False)[0])
                callback_list.on_predict_batch_end(
                    step, {"outputs": self._structure_outputs(outputs[-1])})
                if self.stop_predicting:
                    break
        callback_list.on_predict_end()
        return self._structure_outputs([np.concatenate(parts, axis=0)
                                        for parts in zip(*outputs)])

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
            sample_weight = data.class_weights_to_sample_weights(
                class_weight, _single_target(y, "class_weight"))
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
        x = self._input_arrays(x, "x")
        self._check_input_arrays(x)
        with self._all_cores():
            return self._structure_outputs(self._graph.forward(x, training=False)[0])

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

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Reads weights from a `.weights.h5`, `.keras` or legacy `.h5` file (kwargs:
        `by_name=True`, for legacy `.h5` files only)."""
        from minikeras.saving import saving_api

        saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def to_json(self, **kwargs):
        """The model's architecture as a JSON string (Keras's format)."""
        from minikeras.saving import saving_api

        return saving_api.model_to_json(self, **kwargs)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Prints a table of the layers, their output shapes and parameter counts (Keras's text);
        `expand_nested` also lists the layers of nested models, indented."""
        from minikeras.utils.summary_utils import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      show_trainable=show_trainable, layer_range=layer_range,
                      expand_nested=expand_nested)


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


def _is_symbolic(x):
    if isinstance(x, KerasTensor):
        return True
    if isinstance(x, (list, tuple)):
        return any(isinstance(t, KerasTensor) for t in x)
    if isinstance(x, dict):
        return any(isinstance(t, KerasTensor) for t in x.values())
    return False


def _unique(weights):
    """Each variable once (a layer used in two nested models lists its weights once)."""
    seen = set()
    result = []
    for weight in weights:
        if id(weight) not in seen:
            seen.add(id(weight))
            result.append(weight)
    return result


def _map_outputs(function, outputs):
    """function applied to one output, or to each of a list / dict of outputs."""
    if isinstance(outputs, dict):
        return {name: function(value) for name, value in outputs.items()}
    if isinstance(outputs, (list, tuple)):
        return type(outputs)(function(value) for value in outputs)
    return function(outputs)


def _sum_repeated(weights, grads):
    """One gradient per distinct weight (the order of `_unique`): a weight reached through two
    layers (a layer also used inside a nested model) gets the sum of its gradients."""
    summed = {}
    for weight, grad in zip(weights, grads):
        summed[id(weight)] = grad if id(weight) not in summed else summed[id(weight)] + grad
    return [summed[id(weight)] for weight in _unique(weights)]


def _is_array_list(value):
    """A list of arrays (one per input or output), as opposed to nested Python numbers."""
    return isinstance(value, (list, tuple)) and bool(value) and all(
        hasattr(v, "shape") for v in value)


def _flatten_structure(value, names, argument, what, keys=None):
    """The data given for a model's inputs (or outputs) -> a list in the model's order.

    value: one array (single input), a list/tuple of arrays (one per input, in order) or a
    dict keyed by input name (or by the keys of the dict the model was built with).
    """
    count = len(names)
    if isinstance(value, dict):
        keys = keys or names
        unknown = [key for key in value if key not in keys]
        missing = [key for key in keys if key not in value]
        if unknown or missing:
            raise ValueError(
                f"Expected `{argument}` as a dict with keys {list(keys)} (the model's {what} "
                f"names). Received: {argument} with keys {list(value)}"
            )
        return [value[key] for key in keys]
    if _is_array_list(value):
        if len(value) == 1 and count == 1:
            return [value[0]]
        if len(value) != count:
            raise ValueError(
                f"The model expects {count} {what}(s) ({names}), but it received "
                f"{len(value)} arrays. Received: {argument} as a list of {len(value)} arrays"
            )
        return list(value)
    if count != 1:
        raise ValueError(
            f"The model has {count} {what}s ({names}): expected `{argument}` as a list of "
            f"{count} arrays or a dict keyed by {what} name. Received: {argument} of type "
            f"{type(value).__name__}"
        )
    return [value]


def _single_target(y, argument):
    if len(y) != 1:
        raise ValueError(
            f"`{argument}` is only supported for models with a single output. Received: "
            f"{argument} for a model with {len(y)} outputs"
        )
    return y[0]


def _apply_mask(sample_weight, mask, reduction):
    """Keras's rule for a masked output: masked entries weigh 0, and for mean-type
    reductions the others are scaled by total / valid so the loss averages the valid ones.
    mask: (batch, ...) booleans. Returns the weights, (batch, ...)."""
    weights = mask.astype(np.float64)
    if reduction in ("mean", "sum_over_batch_size"):
        weights = weights * (weights.size / (weights.sum() + backend.epsilon()))
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        while sample_weight.ndim > weights.ndim and sample_weight.shape[-1] == 1:
            sample_weight = sample_weight[..., 0]
        while sample_weight.ndim < weights.ndim:
            sample_weight = sample_weight[..., None]
        weights = weights * sample_weight
    return weights


def _log_values(logs):
    """A step's logs as floats (metric results may be arrays, tracked values or Variables)."""
    values = {}
    for key, value in logs.items():
        value = np.asarray(tape.unwrap(value))
        values[key] = float(value) if value.ndim == 0 else value
    return values


def _compiled_loss_op(model, ys, preds, sample_weight):
    """The compiled losses as one op on the tape: forward by each Loss's forward, vjp by its
    backward (dL/d(prediction) for each output)."""
    values = [tape.unwrap(p) for p in preds]
    total = 0.0
    dys = []
    for index, loss_fn in enumerate(model._output_losses):
        if loss_fn is None:
            dys.append(None)
            continue
        loss_values, cache = loss_fn.forward(ys[index], values[index])
        loss, dvalues = reduce_weighted_values(loss_values, sample_weight, loss_fn.reduction)
        weight = model._output_loss_weights[index]
        total = total + weight * loss
        dys.append(loss_fn.backward(dvalues * weight, cache))
    parents = [tape.lift(p) for p in preds]
    tracked = [p for p in parents if p is not None]
    total = np.asarray(total, dtype=backend.floatx())
    if not tracked:
        return total

    def vjp(g):
        return [g * d if d is not None else np.zeros_like(v)
                for p, d, v in zip(parents, dys, values) if p is not None]

    return tape.Tracked(total, tracked, vjp)


def _penalty_op(weight, leaf):
    """A weight regularizer's penalty on the tape (its gradient: regularizer.gradient)."""
    value = np.asarray(weight.regularizer(weight.value), dtype=backend.floatx())
    return tape.Tracked(value, [leaf], lambda g: [g * weight.regularizer.gradient(weight.value)])


def _stateful_layers(model):
    """The layers (nested ones too) that carry `states` from batch to batch (stateful RNNs)."""
    found = []
    pending = list(model.layers)
    while pending:
        layer = pending.pop()
        if getattr(layer, "stateful", False) is True and hasattr(layer, "states"):
            found.append(layer)
        children = getattr(layer, "_saveable_children", None)
        if callable(children):
            pending += [child for _, child in children()]
        pending += list(getattr(layer, "layers", None) or [])
    return found
