"""`AdamW`: Adam with decoupled weight decay (Loshchilov and Hutter, 2019)."""

from minikeras.optimizers.adam import Adam


class AdamW(Adam):
    """Adam plus weight decay applied to the weights themselves, not through the gradient.
    At each step, before the Adam update (see `Adam`):

        w = w - w * weight_decay * lr

    (the same decay any optimizer applies when given `weight_decay`; AdamW only makes it
    mandatory, 0.004 by default). It decays every variable, biases included, unless
    `exclude_from_weight_decay` says otherwise.

    State: as Adam.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        weight_decay: decay factor, a float >= 0 (default 0.004; None is refused).
        beta_1, beta_2, epsilon, amsgrad: as Adam.
        name: optimizer name (default "adam_w", made unique).
        **kwargs: the common arguments, see `Optimizer` (clipnorm,
            clipvalue, global_clipnorm, use_ema, gradient_accumulation_steps...).
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, name=None, **kwargs):
        if weight_decay is None:
            raise ValueError(
                "Argument `weight_decay` must be a float. Received: weight_decay=None"
            )
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay,
                         name=name, **kwargs)
