"""Learning-rate schedules: plain functions ``step -> learning rate`` (step counts from 0).

Closed forms (lr0 = base rate, t = step):
  constant      lr0
  step          lr0 * drop ** floor(t / every)
  exponential   lr0 * decay_rate ** (t / decay_steps)
  cosine        min_lr + (lr0 - min_lr) * (1 + cos(pi * min(t, total_steps) / total_steps)) / 2
  inverse_time  lr0 / (1 + decay_rate * t / decay_steps)
"""
from __future__ import annotations

import math
from core.errors import quote

SCHEDULES = ("constant", "step", "exponential", "cosine", "inverse_time")


def constant(lr):
    return lambda step: lr


def step_decay(lr, drop=0.5, every=1000):
    return lambda step: lr * drop ** (step // every)


def exponential(lr, decay_rate=0.1, decay_steps=1000):
    return lambda step: lr * decay_rate ** (step / decay_steps)


def cosine(lr, total_steps=1000, min_lr=0.0):
    return lambda step: min_lr + (lr - min_lr) * 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps))


def inverse_time(lr, decay_rate=1.0, decay_steps=1000):
    return lambda step: lr / (1 + decay_rate * step / decay_steps)


def make_schedule(name, lr, drop=0.5, every=1000, decay_rate=0.1, decay_steps=1000, total_steps=1000, min_lr=0.0):
    """Build a schedule by name; unused arguments are ignored."""
    if name == "constant":
        return constant(lr)
    if name == "step":
        return step_decay(lr, drop, every)
    if name == "exponential":
        return exponential(lr, decay_rate, decay_steps)
    if name == "cosine":
        return cosine(lr, total_steps, min_lr)
    if name == "inverse_time":
        return inverse_time(lr, decay_rate, decay_steps)
    raise ValueError(f"schedule={quote(name)}: allowed are {', '.join(SCHEDULES)}")
