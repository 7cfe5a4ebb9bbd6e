"""The network and how it learns.

    net = MLP([9, 15, 1]); p0 = net.init(seed=0)          # one flat float64 vector, net.unflatten(p) for layers
    opt = optimizers.make("momentum", lr=0.07, momentum=0.9)   # a pair of pure functions: init, update
    traj = train(net, p0, ds, opt, steps=2000, record_every=10)   # -> Trajectory (recorded frames + loss_history)

network: MLP and its hand-written backprop; optimizers and schedules: optax-style pure functions;
training: the loop that records the weight trajectory (train, and train_batch for many runs at once);
batched_training: the engine under both (stacked runs, preallocated buffers).
"""
from core.model import optimizers, schedules
from core.model.network import MLP
from core.model.training import Trajectory, train, train_batch

__all__ = ["MLP", "Trajectory", "train", "train_batch", "optimizers", "schedules"]
