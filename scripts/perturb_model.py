#!/usr/bin/python3
"""Write a copy of a TorchScript model with one parameter perturbed (for testing `torchprobe check`).

Usage:
    /usr/bin/python3 scripts/perturb_model.py IN.pt -o OUT.pt [--param NAME] [--delta D]
        [--index I]

    /usr/bin/python3 scripts/perturb_model.py resnet18.pt -o resnet18_bad.pt
    /usr/bin/python3 scripts/perturb_model.py resnet18.pt -o r.pt --param layer4.1.conv2.weight

Adds D (default 1e-2) to one element (flat index I, default 0) of parameter NAME (default: the
first parameter whose name ends in ".weight" of a 4-D tensor, i.e. the first convolution's
weight), or to every element with --index all. The model's extra files (its torchprobe.json
metadata) are kept, so the copy is probed with the same preprocessing. Prints what it changed.

Exit codes: 0 written, 2 usage error (unknown parameter, bad index), 1 anything else.
"""

import argparse
import io
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from export_model import METADATA_FILE, write_atomic  # noqa: E402


def first_conv_weight(module):
    for name, p in module.named_parameters():
        if name.endswith(".weight") and p.dim() == 4:
            return name
    for name, _ in module.named_parameters():
        return name
    return None


def perturb(path_in, path_out, param=None, delta=1e-2, index="0"):
    extra = {METADATA_FILE: ""}
    module = torch.jit.load(path_in, map_location="cpu", _extra_files=extra)
    params = dict(module.named_parameters())
    name = param or first_conv_weight(module)
    if name not in params:
        raise KeyError(f"error: no parameter '{name}' in '{path_in}' "
                       f"(first ones: {', '.join(list(params)[:5])})")
    with torch.no_grad():
        flat = params[name].view(-1)
        if index == "all":
            flat.add_(delta)
        else:
            i = int(index)
            if not 0 <= i < flat.numel():
                raise IndexError(f"error: index {i} is outside '{name}' ({flat.numel()} elements)")
            flat[i] += delta
    files = {k: v for k, v in extra.items() if v}
    buffer = io.BytesIO()
    torch.jit.save(module, buffer, _extra_files=files)
    write_atomic(path_out, buffer.getvalue())
    return name


def main(argv=None):
    p = argparse.ArgumentParser(description="Copy a TorchScript model with one parameter perturbed.")
    p.add_argument("input", metavar="IN.pt")
    p.add_argument("-o", "--output", required=True, metavar="OUT.pt")
    p.add_argument("--param", help="parameter name (default: the first 4-D .weight)")
    p.add_argument("--delta", type=float, default=1e-2, help="value added (default 1e-2)")
    p.add_argument("--index", default="0", help="flat element index, or 'all' (default 0)")
    a = p.parse_args(argv)
    try:
        name = perturb(a.input, a.output, a.param, a.delta, a.index)
    except (KeyError, IndexError) as e:
        print(e.args[0], file=sys.stderr)
        return 2
    except (ValueError, RuntimeError, OSError) as e:
        print(f"error: cannot perturb '{a.input}': {str(e).splitlines()[0]}", file=sys.stderr)
        return 1
    print(f"perturbed {name}[{a.index}] by {a.delta:g}: {a.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
