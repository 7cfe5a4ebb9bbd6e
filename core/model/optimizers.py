"""Optimizers as pairs of pure functions (optax style).

    opt = make("momentum", lr=0.07, momentum=0.9)
    state = opt.init(params)
    delta, state = opt.update(grad, state, step)   # params_next = params + delta

``step`` counts from 0; the learning rate of a step is ``opt.schedule(step)``.
State is a tuple of arrays; nothing is mutated in place, so a state can be kept.

Conventions (as in torch.optim):
  sgd        delta = -lr g
  momentum   v = mu v + g;             delta = -lr v
  nesterov   v = mu v + g;             delta = -lr (g + mu v)
  adam       m = b1 m + (1-b1) g;  s = b2 s + (1-b2) g^2;  t = step + 1
             delta = -lr (m / (1-b1^t)) / (sqrt(s / (1-b2^t)) + eps)
  rmsprop    s = a s + (1-a) g^2;      delta = -lr g / (sqrt(s) + eps)
  annealing  sgd with a decaying schedule (default exponential: lr * 0.01^(t/decay_steps))
  large_lr   sgd with a large constant rate (default 2.0), the article's third variation

Curvature (see core/curvature.py): ``opt.preconditioner(grad, state, step)`` is the diagonal
(P,) that ``update(grad, state, step)`` divides the step by (adam, rmsprop), None for the SGD
family; ``stability_threshold(name, hparams, lr)`` is the largest stable curvature on a quadratic.
"""
from __future__ import annotations

import math

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from core.constraints import Choice, Real, Text
from core.errors import quote
from core.model.schedules import SCHEDULES, make_schedule

OPTIMIZERS = ("sgd", "annealing", "large_lr", "momentum", "nesterov", "adam", "rmsprop")
MAX_LR = 100.0

# Default hyper-parameters per optimizer (every one also takes the schedule keys).
DEFAULTS = {
    "sgd":       dict(lr=0.07),
    "annealing": dict(lr=0.5, schedule="exponential", decay_rate=0.01),
    "large_lr":  dict(lr=2.0),
    "momentum":  dict(lr=0.07, momentum=0.9),
    "nesterov":  dict(lr=0.07, momentum=0.9),
    "adam":      dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8),
    "rmsprop":   dict(lr=0.01, alpha=0.99, eps=1e-8),
}
SCHEDULE_KEYS = dict(schedule="constant", drop=0.5, every=1000, decay_rate=0.1, decay_steps=1000,
                     total_steps=1000, min_lr=0.0)
# every hyper-parameter's constraint, declared once (validation, messages and the app's hints read it)
HPARAMS = {
    "lr": Real(0.0, MAX_LR, lo_open=True), "momentum": Real(0.0, 1.0, hi_open=True),
    "beta1": Real(0.0, 1.0, hi_open=True), "beta2": Real(0.0, 1.0, hi_open=True),
    "alpha": Real(0.0, 1.0, hi_open=True), "eps": Real(0.0, 1.0, lo_open=True),
    "schedule": Choice(SCHEDULES), "drop": Real(0.0, 1.0, lo_open=True), "every": Real(1, 10**7),
    "decay_rate": Real(0.0, 1e6, lo_open=True), "decay_steps": Real(1, 10**7), "total_steps": Real(1, 10**7),
    "min_lr": Real(0.0, MAX_LR),
}


@dataclass(frozen=True)
class Optimizer:
    name: str
    hparams: dict                                   # every hyper-parameter in use, defaults filled in
    init: Callable = field(repr=False)              # params (P,) -> state
    update: Callable = field(repr=False)            # (grad, state, step) -> (delta, state)
    schedule: Callable = field(repr=False)          # step -> learning rate
    # (grad, state, step) -> (P,) diagonal that update(grad, state, step) divides by, or None (SGD family)
    preconditioner: Callable = field(default=None, repr=False)

    def __post_init__(self):
        if self.preconditioner is None:
            object.__setattr__(self, "preconditioner", _no_preconditioner)

    @property
    def preconditioned(self):
        """True when the update divides by a diagonal preconditioner (sharpness is then measured
        on P^-1/2 H P^-1/2)."""
        return is_preconditioned(self.name)


def _no_preconditioner(grad, state, step):
    return None


# optimizers whose step is divided by a diagonal preconditioner P (Adam: sqrt(v_hat) + eps)
PRECONDITIONED = ("adam", "rmsprop")
LR_AT_STEP = Real(0.0)                  # a step's learning rate (0 at the end of a schedule): a finite number >= 0


def is_preconditioned(name):
    """True for optimizers whose stability is judged on the preconditioned Hessian P^-1/2 H P^-1/2."""
    Choice(OPTIMIZERS).check("optimizer name", name)
    return name in PRECONDITIONED


def stability_threshold(name, hparams=None, lr=None):
    """Largest curvature lambda at which ``name`` is stable on f(x) = lambda x^2 / 2 (torch.optim conventions).

      sgd, annealing, large_lr   2 / lr
      momentum (heavy ball)      (2 + 2 mu) / lr
      nesterov                   (2 + 2 mu) / ((1 + 2 mu) lr)
      adam                       (2 + 2 beta1) / ((1 - beta1) lr)   on the preconditioned Hessian
      rmsprop                    2 / lr                              on the preconditioned Hessian
    (Adam and RMSprop: with the preconditioner P held fixed, as in Cohen et al. 2022; compare with the
    top eigenvalue of P^-1/2 H P^-1/2.) hparams: missing keys take DEFAULTS; lr: the learning rate of
    the step (default hparams["lr"]); lr == 0 (the end of a schedule) gives inf.
    """
    Choice(OPTIMIZERS).check("optimizer name", name)
    if hparams is not None and not isinstance(hparams, dict):
        raise TypeError(f"hparams={type(hparams).__name__}: expected a dict of hyper-parameters or None")
    check_hparams(name, hparams or {}, where="hparams")
    hp = dict(DEFAULTS[name]); hp.update(hparams or {})
    lr = hp["lr"] if lr is None else lr
    LR_AT_STEP.check("lr", lr)
    if lr == 0:
        return math.inf
    lr = float(lr)
    if name in ("momentum", "nesterov"):
        mu = float(hp["momentum"])
        return (2 + 2 * mu) / lr if name == "momentum" else (2 + 2 * mu) / ((1 + 2 * mu) * lr)
    if name == "adam":
        b1 = float(hp["beta1"])
        return (2 + 2 * b1) / ((1 - b1) * lr)
    return 2.0 / lr


def allowed_hparams(name):
    return set(DEFAULTS[name]) | set(SCHEDULE_KEYS) | {"lr"}


def check_hparams(name, hp, where="optimizer"):
    """Validate hyper-parameters against HPARAMS; errors name the field, the value and what is allowed."""
    Choice(OPTIMIZERS).check(f"{where}.name", name)
    allowed = allowed_hparams(name)
    for k, v in hp.items():
        if k not in allowed:
            raise ValueError(f"{where}.{k}: unknown hyper-parameter for {quote(name)}; "
                             f"allowed are {', '.join(sorted(allowed))}")
        HPARAMS[k].check(f"{where}.{k}", v)


LABEL = Text(40, non_empty=True)        # an optimizer's display name (in a spec's or a sweep's optimizers)


def check_entry(name, label, hp, where, seen):
    """One optimizer entry of a spec or a sweep at ``where``: its label, name and hyper-parameters, and a
    display name (the label, else the name) not in ``seen``, to which it is then added."""
    if label is not None:
        LABEL.check(f"{where}.label", label)
    check_hparams(name, hp, where)
    shown = label if label is not None else name
    if shown in seen:
        raise ValueError(f"{where}.label={quote(shown)}: labels must be unique; give this optimizer its own "
                         "\"label\"")
    seen.add(shown)


def hparams_for(name, given=None, steps=None):
    """``given`` over the optimizer's DEFAULTS (with its schedule, "constant" unless it has one): the one place
    defaults are resolved (the spec's runs, the app's optimizer rows and ``make`` use it). With ``steps`` (the
    run's length) a decaying schedule spans the run unless ``given`` says otherwise: decay_steps =
    total_steps = steps, every = steps // 4."""
    Choice(OPTIMIZERS).check("optimizer.name", name)
    hp = {"schedule": "constant"}
    hp.update(DEFAULTS[name]); hp.update(given or {})
    if steps is not None and hp["schedule"] != "constant":
        span = dict(decay_steps=steps, total_steps=steps, every=max(1, steps // 4))
        hp.update({k: v for k, v in span.items() if k not in (given or {})})
    return hp


def make(name, **hparams):
    """Build an optimizer by name with validated hyper-parameters (defaults: hparams_for, then SCHEDULE_KEYS)."""
    check_hparams(name, hparams)
    hp = dict(SCHEDULE_KEYS); hp.update(hparams_for(name, hparams))
    sched = make_schedule(hp["schedule"], hp["lr"], hp["drop"], hp["every"], hp["decay_rate"],
                          hp["decay_steps"], hp["total_steps"], hp["min_lr"])
    kept = {k: hp[k] for k in allowed_hparams(name)}
    if kept["schedule"] == "constant":             # schedule keys matter only with a schedule
        kept = {k: v for k, v in kept.items() if k not in SCHEDULE_KEYS or k == "schedule"}
    init, update = _FACTORIES[name](hp, sched)
    precond = _PRECONDITIONERS[name](hp) if name in _PRECONDITIONERS else None
    return Optimizer(name, kept, init, update, sched, precond)


# ----------------------------------------------------------------- the pairs
def _sgd(hp, lr):
    def init(params):
        return ()

    def update(grad, state, step):
        return -lr(step) * grad, state
    return init, update


def _momentum(hp, lr, nesterov=False):
    mu = hp["momentum"]

    def init(params):
        return (np.zeros_like(params),)

    def update(grad, state, step):
        v = mu * state[0] + grad
        d = grad + mu * v if nesterov else v
        return -lr(step) * d, (v,)
    return init, update


def _adam(hp, lr):
    b1, b2, eps = hp["beta1"], hp["beta2"], hp["eps"]

    def init(params):
        return (np.zeros_like(params), np.zeros_like(params))

    def update(grad, state, step):
        m = b1 * state[0] + (1 - b1) * grad
        s = b2 * state[1] + (1 - b2) * grad * grad
        t = step + 1
        mhat = m / (1 - b1 ** t)
        shat = s / (1 - b2 ** t)
        return -lr(step) * mhat / (np.sqrt(shat) + eps), (m, s)
    return init, update


def _rmsprop(hp, lr):
    a, eps = hp["alpha"], hp["eps"]

    def init(params):
        return (np.zeros_like(params),)

    def update(grad, state, step):
        s = a * state[0] + (1 - a) * grad * grad
        return -lr(step) * grad / (np.sqrt(s) + eps), (s,)
    return init, update


def _adam_preconditioner(hp):
    b2, eps = hp["beta2"], hp["eps"]

    def preconditioner(grad, state, step):
        """sqrt(v_hat) + eps of the update at ``step`` (its second moment already includes grad)."""
        s = b2 * state[1] + (1 - b2) * grad * grad
        return np.sqrt(s / (1 - b2 ** (step + 1))) + eps
    return preconditioner


def _rmsprop_preconditioner(hp):
    a, eps = hp["alpha"], hp["eps"]

    def preconditioner(grad, state, step):
        """sqrt(s) + eps of the update at ``step`` (s already includes grad)."""
        return np.sqrt(a * state[0] + (1 - a) * grad * grad) + eps
    return preconditioner


_PRECONDITIONERS = {"adam": _adam_preconditioner, "rmsprop": _rmsprop_preconditioner}

_FACTORIES = {
    "sgd": _sgd, "annealing": _sgd, "large_lr": _sgd,
    "momentum": _momentum, "nesterov": lambda hp, lr: _momentum(hp, lr, nesterov=True),
    "adam": _adam, "rmsprop": _rmsprop,
}
