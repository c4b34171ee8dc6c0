#!/usr/bin/python3
"""Reference numbers for `torchprobe bn-check`, from PyTorch forward hooks on the eager model.

Usage:
    /usr/bin/python3 tests/reference/bn_reference.py MODEL.pt [STIMULUS ...] [--train]
        [--preprocess none|imagenet]

Rebuilds the eager model as hooks_reference.py does (metadata architecture + the file's
state_dict), runs the stimuli as one batch (default noise:0 noise:1, as bn-check) and prints JSON
{layer: {"running": D or null, "batch": D, "type": ..., "affine": bool, "track": bool}} for every
BatchNorm (any nn.modules.batchnorm._BatchNorm) called, where D is the max absolute difference, in
float64, between the module's output and
    (x - mean) / sqrt(var + eps) * weight + bias      (weight, bias left out when affine=False)
with mean, var = the running statistics read before the forward ("running"; null without them),
or the batch's own mean and biased variance over every dimension but 1 ("batch").

The eager model runs in eval mode, or in training mode with --train (for a model whose TorchScript
graph computes batch statistics whatever its flag, e.g. one traced in training mode).
Run with OMP_NUM_THREADS=1 on both sides to get bit-identical BatchNorm inputs.
"""

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hooks_reference as ref  # noqa: E402


def formula(x, mean, var, m):
    shape = [1, -1] + [1] * (x.dim() - 2)
    y = (x - mean.double().view(shape)) / torch.sqrt(var.double().view(shape) + m.eps)
    if m.weight is not None:
        y = y * m.weight.double().view(shape)
    if m.bias is not None:
        y = y + m.bias.double().view(shape)
    return y


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("stimuli", nargs="*", default=["noise:0", "noise:1"])
    p.add_argument("--train", action="store_true")
    p.add_argument("--preprocess", default="none", choices=["none", "imagenet"])
    a = p.parse_args(argv)

    scripted, meta = ref.load_model(a.model)
    model = ref.build_eager(scripted, meta, a.model).train(a.train)
    chw = tuple(meta["input_size"])
    x = torch.cat([ref.preprocess(ref.make_stimulus(s, chw), a.preprocess) for s in a.stimuli])

    bns = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)}
    saved = {n: (None if m.running_mean is None else (m.running_mean.clone(), m.running_var.clone()))
             for n, m in bns.items()}
    out = {}

    def hook(name):
        def record(m, inputs, output):
            xi, y = inputs[0].double(), output.double()
            dims = [0] + list(range(2, xi.dim()))
            batch = formula(xi, xi.mean(dims), xi.var(dims, unbiased=False), m)
            running = None if saved[name] is None else formula(xi, *saved[name], m)
            out[name] = {"type": type(m).__name__, "affine": m.affine, "track": m.track_running_stats,
                         "batch": (batch - y).abs().max().item(),
                         "running": None if running is None else (running - y).abs().max().item()}
        return record

    for name, m in bns.items():
        m.register_forward_hook(hook(name))
    with torch.no_grad():
        model(x)
    print(json.dumps(out, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
