#!/usr/bin/python3
"""Reference layer captures with PyTorch forward hooks, independent of torchprobe's graph rewrite.

Usage:
    /usr/bin/python3 tests/reference/hooks_reference.py MODEL.pt --layer NAME [--layer NAME ...]
        [--readout center|mean|max|full|at:Y,X] [--preprocess none|imagenet]
        [--mode eval|as-saved] [--eager] [--channels-last] [--dump-input FILE.npy]
        STIMULUS ... -o OUT.json

    /usr/bin/python3 tests/reference/hooks_reference.py googlenet_script.pt \
        --layer conv1.conv --layer conv1 uniform:1@224x244 noise:7 -o ref.json

MODEL.pt must carry torchprobe metadata (scripts/export_model.py, make_test_models.py,
make_demo_model.py). Hooks registered on a scripted module never fire in Python, so the EAGER
module is rebuilt from the metadata's architecture (torchvision builder with export_model's
constructor arguments, testmodels.<name>, or torchprobe-demo = testmodels.DemoNet) and given the
file's exact state_dict. Each hook stores `output.clone()` at call time, before later in-place ops.

Layers: dotted names from named_modules(). A module called once gives key NAME; called k > 1 times
gives NAME#0 .. NAME#k-1 in call order; asking for NAME#i gives only that key. Tuple outputs give
NAME[0], NAME[1] (NAME#1[0] with a call index). Requested layers never called (a module inside an
untaken `if`) are listed per stimulus in "not_called".

Stimuli (bit-exact with the C++ side):
    uniform:V[@HxW]   1 x C x H x W filled with float32(V)
    noise:SEED[@HxW]  SplitMix64 uniform [0, 1) over the C x H x W flat index (see noise())
C comes from the metadata's input_size, and so do H, W when @HxW is left out.

Readouts of a captured tensor T (batch 1): rank 4 (N,C,H,W): center = T[0,:,H//2,W//2] with index
[H//2, W//2], at:Y,X = T[0,:,Y,X] with index [Y, X], mean/max over H,W, full = C x H x W lists;
rank 3 (N,C,L): center at L//2, mean/max over L, full; rank 2 (N,C): the vector, whatever the
readout. "shape" is T's shape without the batch dimension.

By default every stimulus is also run through the TorchScript module itself, and the eager
model's final output must match it (else exit 3): the check that the rebuild is faithful.
--eager skips that check (e.g. a traced model whose traced-in branch differs from eager code).
--mode as-saved keeps the training flag saved in the file (default: eval); in training mode the
saved buffers are restored before each stimulus, so stimuli do not affect each other.
--dump-input writes the exact model input as .npy (with several stimuli: FILE.0.npy, FILE.1.npy...).

Exit codes: 0 success, 2 bad arguments / model / layer / stimulus, 3 the rebuilt eager model does
not reproduce the TorchScript module's output.
"""

import argparse
import difflib
import json
import os
import re
import sys
import warnings

import numpy as np
import torch
import torchvision

# NOTE: PyTorch 2.x's profiling executor never returns from the second call of a traced
# densenet121 under torch.no_grad() (as in pytorch/pytorch#32751); the legacy executor runs the
# same graph and kernels. 1.13 runs fine either way, so the switch is left alone there.
if int(torch.__version__.split(".")[0]) >= 2:
    torch._C._jit_set_profiling_executor(False)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "scripts"))

import export_model as em  # noqa: E402
import testmodels as tm  # noqa: E402

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
EXIT_USAGE = 2
EXIT_EAGER_MISMATCH = 3
# Eager vs TorchScript final outputs: same kernels, so normally exactly equal.
EAGER_CHECK_TOLERANCE = 1e-4


class ReferenceError(Exception):
    def __init__(self, message, exit_code=EXIT_USAGE):
        super().__init__(message)
        self.exit_code = exit_code


# ---------------------------------------------------------------------------------------- model

def load_model(path):
    """Returns (scripted module, metadata dict)."""
    extra = {em.METADATA_FILE: ""}
    try:
        scripted = torch.jit.load(path, map_location="cpu", _extra_files=extra)
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ReferenceError(f"error: cannot load model '{path}': {first}")
    if not extra[em.METADATA_FILE]:
        raise ReferenceError(f"error: cannot rebuild model '{path}': no {em.METADATA_FILE} metadata\n"
                             "hint: export it with scripts/export_model.py")
    return scripted, json.loads(extra[em.METADATA_FILE])


def build_eager(scripted, meta, path):
    arch = meta["architecture"]
    if arch == "torchprobe-demo":
        model = tm.DemoNet()
    elif arch.startswith("testmodels."):
        name = arch[len("testmodels."):]
        if name not in tm.HANDWRITTEN:
            raise ReferenceError(f"error: cannot rebuild model '{path}': unknown architecture '{arch}'")
        model = tm.HANDWRITTEN[name]()
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = torchvision.models.get_model(arch, weights=None,
                                                     **em.builder_kwargs(arch, meta["weights"]))
        except ValueError as e:
            raise ReferenceError(f"error: cannot rebuild model '{path}': architecture '{arch}': {e}")
    state = scripted.state_dict()
    if not state and model.state_dict():
        raise ReferenceError(f"error: cannot rebuild model '{path}': it has no parameters or "
                             "submodules left (frozen with torch.jit.freeze?)")
    missing = sorted(set(model.state_dict()) - set(state))
    unexpected = sorted(set(state) - set(model.state_dict()))
    if missing or unexpected:
        raise ReferenceError(f"error: cannot rebuild model '{path}': its state_dict does not fit "
                             f"'{arch}': missing {missing[:3]}, unexpected {unexpected[:3]}")
    model.load_state_dict(state)
    return model


# ------------------------------------------------------------------------------------- stimuli

def noise(seed, shape):
    """Uniform [0, 1) float32 values from SplitMix64, over the flat C-order index i = 0, 1, ...:
    z = seed + (i + 1) * 0x9E3779B97F4A7C15 (mod 2^64), then the SplitMix64 finaliser,
    value = (z >> 40) / 2^24."""
    n = int(np.prod(shape))
    i = np.arange(1, n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + i * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    values = (z >> np.uint64(40)).astype(np.float32) * np.float32(1.0 / (1 << 24))
    return values.reshape(shape)


STIMULUS_RE = re.compile(r"^(uniform|noise):([^@]+)(?:@(\d+)x(\d+))?$")


def make_stimulus(spec, input_chw):
    """Returns the 1 x C x H x W float32 tensor for `spec`. Raises ReferenceError."""
    m = STIMULUS_RE.match(spec)
    hint = "expected uniform:V[@HxW] or noise:SEED[@HxW], e.g. uniform:0.5 noise:7@224x224"
    if not m:
        raise ReferenceError(f"error: invalid stimulus '{spec}': {hint}")
    kind, arg, h, w = m.groups()
    c = input_chw[0]
    h, w = (int(h), int(w)) if h else (input_chw[1], input_chw[2])
    if h <= 0 or w <= 0:
        raise ReferenceError(f"error: invalid stimulus '{spec}': size must be positive")
    if kind == "uniform":
        try:
            value = float(arg)
        except ValueError:
            raise ReferenceError(f"error: invalid stimulus '{spec}': '{arg}' is not a number")
        return torch.full((1, c, h, w), value, dtype=torch.float32)
    if not arg.isdigit() or int(arg) >= 2 ** 64:
        raise ReferenceError(f"error: invalid stimulus '{spec}': seed must be an integer in [0, 2^64)")
    return torch.from_numpy(noise(int(arg), (1, c, h, w)))


def preprocess(x, how):
    if how == "none":
        return x
    if x.shape[1] != 3:
        raise ReferenceError(f"error: invalid preprocessing 'imagenet': the model takes "
                             f"{x.shape[1]} input channels, not 3")
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=torch.float32).view(1, 3, 1, 1)
    return (x - mean) / std


# ------------------------------------------------------------------------------------ readouts

def parse_readout(text):
    if text in ("center", "mean", "max", "full"):
        return text, None
    m = re.match(r"^at:(\d+),(\d+)$", text)
    if not m:
        raise argparse.ArgumentTypeError(f"invalid readout '{text}': expected center, mean, max, "
                                         "full or at:Y,X")
    return "at", (int(m.group(1)), int(m.group(2)))


def readout(t, kind, pos, key):
    """Returns {"shape", "index", "values"} for captured tensor `t` (batch first, N = 1)."""
    shape = list(t.shape[1:])
    x = t[0].detach().to(torch.float32)
    rank = t.dim()
    if rank <= 2:
        return {"shape": shape, "index": [], "values": x.reshape(-1).tolist()}
    if kind == "full":
        return {"shape": shape, "index": [], "values": x.tolist()}
    if rank not in (3, 4):
        raise ReferenceError(f"error: readout '{kind}' of layer '{key}': rank {rank} output "
                             f"{list(t.shape)} supports only 'full'")
    spatial = tuple(range(1, rank - 1))  # the dims of x after the channel
    if kind == "mean":
        return {"shape": shape, "index": [], "values": x.mean(dim=spatial).tolist()}
    if kind == "max":
        return {"shape": shape, "index": [], "values": x.amax(dim=spatial).tolist()}
    if kind == "center":
        index = [s // 2 for s in shape[1:]]
    else:
        if rank != 4:
            raise ReferenceError(f"error: readout 'at' of layer '{key}': needs a rank 4 output, "
                                 f"got {list(t.shape)}")
        index = list(pos)
        if not (index[0] < shape[1] and index[1] < shape[2]):
            raise ReferenceError(f"error: readout 'at:{index[0]},{index[1]}' of layer '{key}': "
                                 f"outside its {shape[1]}x{shape[2]} output")
    return {"shape": shape, "index": index, "values": x[(slice(None), *index)].tolist()}


# ---------------------------------------------------------------------------------- capturing

class Request:
    def __init__(self, text):
        self.text = text
        m = re.match(r"^(.*)#(\d+)$", text)
        self.base, self.call = (m.group(1), int(m.group(2))) if m else (text, None)


def register_hooks(model, requests):
    """One forward hook per requested module; returns (records: base -> list of outputs, handles)."""
    modules = dict(model.named_modules(remove_duplicate=False))
    del modules[""]
    records, handles = {}, []
    for r in requests:
        if r.base not in modules:
            close = difflib.get_close_matches(r.base, list(modules), n=1)
            hint = f"\nhint: did you mean '{close[0]}'?" if close else ""
            raise ReferenceError(f"error: unknown layer '{r.text}': no such submodule in the model{hint}")
        if r.base in records:
            continue
        calls = records[r.base] = []

        def hook(module, inputs, output, calls=calls):
            calls.append(clone_output(output))

        handles.append(modules[r.base].register_forward_hook(hook))
    return records, handles


def clone_output(output):
    if isinstance(output, torch.Tensor):
        return output.detach().clone()
    if isinstance(output, (tuple, list)):
        return tuple(clone_output(o) for o in output)
    return output


def responses_for(requests, records, kind, pos):
    responses, not_called = {}, []

    def emit(key, output):
        if isinstance(output, torch.Tensor):
            responses[key] = readout(output, kind, pos, key)
        elif isinstance(output, tuple):
            for j, element in enumerate(output):
                if isinstance(element, torch.Tensor):
                    responses[f"{key}[{j}]"] = readout(element, kind, pos, f"{key}[{j}]")
                elif element is not None:
                    raise ReferenceError(f"error: layer '{key}[{j}]': output is a "
                                         f"{type(element).__name__}, not a tensor")
        elif output is not None:
            raise ReferenceError(f"error: layer '{key}': output is a {type(output).__name__}, "
                                 "not a tensor")

    for r in requests:
        calls = records[r.base]
        if r.call is not None:
            if r.call < len(calls):
                emit(r.text, calls[r.call])
            else:
                not_called.append(r.text)
        elif not calls:
            not_called.append(r.text)
        elif len(calls) == 1:
            emit(r.base, calls[0])
        else:
            for i, output in enumerate(calls):
                emit(f"{r.base}#{i}", output)
    return responses, not_called


def tensor_leaves(output):
    if isinstance(output, torch.Tensor):
        return [output]
    if isinstance(output, (tuple, list)):
        return [t for o in output for t in tensor_leaves(o)]
    if isinstance(output, dict):
        return [t for o in output.values() for t in tensor_leaves(o)]
    return []


def check_against_torchscript(spec, eager_out, scripted_out):
    a, b = tensor_leaves(eager_out), tensor_leaves(scripted_out)
    if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b)):
        raise ReferenceError(f"error: stimulus '{spec}': the rebuilt eager model's output does not "
                             "have the TorchScript module's structure\nhint: --eager skips this check",
                             EXIT_EAGER_MISMATCH)
    for x, y in zip(a, b):
        diff = (x - y).abs().max().item() if x.numel() else 0.0
        scale = max(1.0, y.abs().max().item() if y.numel() else 0.0)
        if not diff <= EAGER_CHECK_TOLERANCE * scale:
            raise ReferenceError(f"error: stimulus '{spec}': the rebuilt eager model differs from the "
                                 f"TorchScript module by {diff:g}\nhint: --eager skips this check",
                                 EXIT_EAGER_MISMATCH)


def is_conv2d(module):
    """An nn.Conv2d, eager or scripted (a scripted module keeps its class name only)."""
    if isinstance(module, torch.jit.ScriptModule):
        return module.original_name == "Conv2d"
    return isinstance(module, torch.nn.Conv2d)


def run(a):
    scripted, meta = load_model(a.model)
    model = build_eager(scripted, meta, a.model)
    if a.channels_last:
        # As `torchprobe run` computes by default: Conv2d weights in channels-last order, so
        # PyTorch's CPU convolutions (and the ops after them) run in that layout.
        for module in list(model.modules()) + list(scripted.modules()):
            if is_conv2d(module):
                module.weight.data = module.weight.data.contiguous(memory_format=torch.channels_last)
    training = a.mode == "as-saved" and bool(meta.get("training", False))
    model.train(training)
    scripted.train(training)
    saved_state = {k: v.clone() for k, v in model.state_dict().items()} if training else None

    kind, pos = a.readout
    requests = [Request(t) for t in a.layer]
    records, _ = register_hooks(model, requests)
    input_chw = tuple(meta["input_size"])

    stimuli = []
    for n, spec in enumerate(a.stimuli):
        x = preprocess(make_stimulus(spec, input_chw), a.preprocess)
        if a.dump_input:
            root, ext = os.path.splitext(a.dump_input)
            np.save(a.dump_input if len(a.stimuli) == 1 else f"{root}.{n}{ext or '.npy'}", x.numpy())
        for calls in records.values():
            calls.clear()
        if saved_state is not None:
            model.load_state_dict(saved_state)
        with torch.no_grad():
            eager_out = model(x.clone())
            responses, not_called = responses_for(requests, records, kind, pos)
            if not a.eager:
                if saved_state is not None:
                    scripted.load_state_dict(saved_state)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # "Scripted GoogleNet always returns ..."
                    scripted_out = scripted(x.clone())
                check_against_torchscript(spec, eager_out, scripted_out)
        stimuli.append({"id": spec, "input_shape": list(x.shape), "responses": responses,
                        "not_called": not_called})

    return {"reference": "pytorch-hooks", "torch": torch.__version__, "model": a.model,
            "readout": a.readout_text, "preprocess": a.preprocess, "stimuli": stimuli}


def main(argv=None):
    p = argparse.ArgumentParser(description="Reference captures of named layers with PyTorch hooks "
                                            "on the eager rebuild of a torchprobe model.")
    p.add_argument("model", metavar="MODEL.pt")
    p.add_argument("stimuli", metavar="STIMULUS", nargs="+",
                   help="uniform:V[@HxW] or noise:SEED[@HxW]")
    p.add_argument("--layer", action="append", required=True, metavar="NAME",
                   help="dotted module name, NAME#i for call i; repeatable")
    p.add_argument("--readout", default="center", metavar="center|mean|max|full|at:Y,X")
    p.add_argument("--preprocess", choices=["none", "imagenet"], default="none")
    p.add_argument("--mode", choices=["eval", "as-saved"], default="eval",
                   help="eval (default), or the training flag saved in the file")
    p.add_argument("--eager", action="store_true",
                   help="skip checking the eager rebuild's output against the TorchScript module")
    p.add_argument("--channels-last", action="store_true",
                   help="Conv2d weights in channels-last order, as torchprobe run by default")
    p.add_argument("--dump-input", metavar="FILE.npy")
    p.add_argument("-o", "--output", required=True, metavar="OUT.json", help="'-' for stdout")
    a = p.parse_intermixed_args(argv)
    try:
        a.readout_text = a.readout
        a.readout = parse_readout(a.readout)
    except argparse.ArgumentTypeError as e:
        p.error(str(e))

    try:
        doc = run(a)
    except ReferenceError as e:
        print(e, file=sys.stderr)
        return e.exit_code
    # NOTE: a full readout of a big layer is millions of numbers: no indentation then.
    text = json.dumps(doc, indent=None if a.readout_text == "full" else 1) + "\n"
    if a.output == "-":
        sys.stdout.write(text)
    else:
        with open(a.output, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
