#!/usr/bin/python3
"""Export a torchvision architecture to TorchScript with torchprobe metadata.

Usage:
    /usr/bin/python3 scripts/export_model.py ARCH -o OUT.pt [--mode script|trace]
        [--weights pretrained|random] [--seed N] [--size HxW] [--train]

    /usr/bin/python3 scripts/export_model.py googlenet -o googlenet.pt
    /usr/bin/python3 scripts/export_model.py resnet18 -o r18.pt --mode trace --size 128x128

ARCH is any torchvision.models builder name (googlenet, densenet121, resnet18, alexnet, ...).
The metadata is stored as the TorchScript extra file 'torchprobe.json' (see METADATA_FORMAT).

With --weights random (the default) the model is seeded, its BatchNorm affine parameters are made
non-trivial and its running statistics are calibrated on random inputs, so that BN, in-place ReLU
and the like do something observable in tests. Same arguments give byte-identical files.

The helpers here (build_torchvision, randomize_batchnorm, calibrate_batchnorm, to_torchscript,
make_metadata, save_torchscript) are also used by make_test_models.py, make_demo_model.py and
tests/reference/hooks_reference.py: keep their signatures stable.

Exit codes: 0 success, 2 usage error (unknown architecture, bad size, missing output directory) or
pretrained weights unavailable, 1 anything else (e.g. cannot write the file).
"""

import os
import sys

if __name__ == "__main__" and os.environ.get("PYTHONHASHSEED") != "0":
    # NOTE: TorchScript writes a module's constants in the order of a Python set, which depends on
    # string hashing; fix the hash seed so that the same arguments give byte-identical files.
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import argparse
import contextlib
import io
import json
import tempfile
import warnings

import torch
import torch.nn as nn
import torchvision

METADATA_FILE = "torchprobe.json"
METADATA_FORMAT = "torchprobe-model/1"
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
DEFAULT_RESIZE = {"fit": "crop", "crop_pct": 0.875, "interpolation": "bilinear"}

# Calibration of BatchNorm running statistics: CALIB_BATCHES batches of CALIB_BATCH_SIZE inputs.
CALIB_BATCHES = 3
CALIB_BATCH_SIZE = 2


class ExportError(Exception):
    """An error with a one-line message and an exit code; main() prints it and exits."""

    def __init__(self, message, exit_code=1):
        super().__init__(message)
        self.exit_code = exit_code


def builder_kwargs(arch, weights):
    """Constructor arguments for torchvision builder `arch`, beyond `weights=`.

    NOTE: hooks_reference.py rebuilds the eager model with these same arguments (and weights=None),
    then loads the exported state_dict, so whatever is returned must give the same module tree as
    the exported model for both weight kinds.
    """
    if arch == "googlenet":
        if weights == "pretrained":
            # torchvision's pretrained googlenet: transform_input=True, aux heads dropped after loading.
            # Passed explicitly only when rebuilding (weights=None); see build_torchvision.
            return {"transform_input": True, "aux_logits": False, "init_weights": False}
        # transform_input=True so the functional preamble exists with random weights too.
        return {"transform_input": True, "aux_logits": False, "init_weights": True}
    return {}


def build_torchvision(arch, weights="random", seed=0, input_chw=(3, 224, 224)):
    """Build torchvision model `arch` in eval mode; BN is calibrated at `input_chw`. Raises ExportError."""
    try:
        builder = torchvision.models.get_model_builder(arch)
    except ValueError:
        known = ", ".join(torchvision.models.list_models()[:8])
        raise ExportError(f"error: unknown architecture '{arch}': not a torchvision.models builder "
                          f"(e.g. {known}, ...)", 2)
    if weights == "pretrained":
        try:
            enum = torchvision.models.get_model_weights(arch).DEFAULT
            # torchvision's own defaults for pretrained models (googlenet: see builder_kwargs).
            model = builder(weights=enum)
        except Exception as e:  # no network, no cache, no weights for this architecture...
            hub = os.path.join(torch.hub.get_dir(), "checkpoints")
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ExportError(f"error: pretrained weights for '{arch}' unavailable: {reason}; "
                              f"they must be in the torch hub cache ({hub})", 2)
    else:
        torch.manual_seed(seed)
        with warnings.catch_warnings(), float64_initialisation():
            warnings.simplefilter("ignore")  # e.g. googlenet's init_weights scipy notice
            model = builder(weights=None, **builder_kwargs(arch, "random"))
            randomize_batchnorm(model)
        calibrate_batchnorm(model, input_chw)
    return model.eval()


@contextlib.contextmanager
def float64_initialisation():
    """Within: new parameters are float64, so the random initialisation runs in float64.

    NOTE: why. ATen draws float32 normal numbers with vectorised code that differs per instruction
    set (the AVX2 kernel, the AVX-512 and plain builds another), so float32 weights seeded alike
    differ in their last bits between CPUs (and under ATEN_CPU_CAPABILITY). float64 draws take one
    scalar path; rounded to float32 afterwards (calibrate_batchnorm), they give the same weights on
    every x86-64 CPU.
    """
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def batchnorms(model):
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def randomize_batchnorm(model):
    """Give every BatchNorm weight ~ U(0.5, 1.5) and bias ~ N(0, 0.2), from the global torch RNG."""
    with torch.no_grad():
        for bn in batchnorms(model):
            if bn.weight is not None:
                bn.weight.uniform_(0.5, 1.5)
            if bn.bias is not None:
                bn.bias.normal_(0.0, 0.2)


def calibrate_batchnorm(model, input_chw, batches=CALIB_BATCHES, batch_size=CALIB_BATCH_SIZE):
    """Set BatchNorm running statistics to the cumulative average over random normal batches.

    Uses the global torch RNG (seed it first). Leaves the model in eval mode, in float32.

    NOTE: the statistics are computed in float64 and then rounded to float32, so that CPUs whose
    kernels sum in another order (AVX2 vs AVX-512, other BLAS kernels) still get the same float32
    statistics: a float64 rounding difference changes the float32 result only when it falls on a
    rounding boundary (about once in 2**29 values). Same model file on every x86-64 CPU.
    """
    bns = batchnorms(model)
    if not bns:
        return model.float().eval()
    model.double()
    saved = [bn.momentum for bn in bns]
    for bn in bns:
        bn.momentum = None  # cumulative moving average: every batch weighs the same
        bn.reset_running_stats()
    model.train()
    # NOTE: one intra-op thread, because ATen's parallel reductions round differently with other
    # thread counts. BLAS threads (OMP_NUM_THREADS / OPENBLAS_NUM_THREADS) can still change the last
    # bits of the statistics. Costs < 0.1 s for densenet121.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            for _ in range(batches):
                model(torch.randn(batch_size, *input_chw, dtype=torch.float64))
    finally:
        torch.set_num_threads(threads)
    for bn, momentum in zip(bns, saved):
        bn.momentum = momentum
    return model.float().eval()


def to_torchscript(model, mode="script", input_chw=(3, 224, 224), training=False):
    """Script or trace `model`, in training mode if `training`, else eval. Returns the ScriptModule.

    The eager model is left in eval mode with its weights and buffers unchanged.
    """
    model.train(training)
    try:
        if mode == "script":
            return torch.jit.script(model)
        if mode != "trace":
            raise ExportError(f"error: unknown export mode '{mode}': expected script or trace", 2)
        # NOTE: tracing runs a forward; in training mode that updates BatchNorm running stats (and
        # the traced module shares the tensors), so save and restore every buffer.
        saved = {k: v.clone() for k, v in model.state_dict().items()}
        example = torch.ones(1, *input_chw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            traced = torch.jit.trace(model, example, check_trace=False, strict=False)
        with torch.no_grad():
            for k, v in model.state_dict().items():
                v.copy_(saved[k])
        return traced
    finally:
        model.eval()


def make_metadata(architecture, weights, seed, export_mode, training, input_chw,
                  mean=IMAGENET_MEAN, std=IMAGENET_STD):
    return {
        "format": METADATA_FORMAT,
        "architecture": architecture,
        "weights": weights,
        "seed": None if weights == "pretrained" else seed,
        "export_mode": export_mode,
        "training": bool(training),
        "input_size": list(input_chw),
        "mean": list(mean),
        "std": list(std),
        "resize": dict(DEFAULT_RESIZE),
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
    }


def save_torchscript(module, path, metadata):
    """Save `module` with `metadata` as extra file torchprobe.json; atomic (temp file + rename).

    NOTE: torch.jit.save names the archive's top folder after the file, so saving to a temp file
    would leak its random name into the archive. Saving to memory gives the fixed name 'archive'
    and files whose bytes do not depend on the output path.
    """
    write_atomic(path, torchscript_bytes(module, metadata))


def torchscript_bytes(module, metadata):
    """The bytes torch.jit.save writes for `module` with `metadata` as torchprobe.json."""
    text = json.dumps(metadata, indent=2) + "\n"
    buffer = io.BytesIO()
    torch.jit.save(module, buffer, _extra_files={METADATA_FILE: text})
    return buffer.getvalue()


def write_atomic(path, data):
    """Write bytes to a temp file next to `path`, then rename it over `path` (no partial files)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def export_torchvision(arch, out, mode="script", weights="random", seed=0, size=(224, 224),
                       training=False, model=None):
    """Build (unless `model` is given), convert and save one torchvision model."""
    chw = (3, size[0], size[1])
    if model is None:
        model = build_torchvision(arch, weights, seed, chw)
    module = to_torchscript(model, mode, chw, training)
    save_torchscript(module, out, make_metadata(arch, weights, seed, mode, training, chw))
    return model


def parse_size(text):
    try:
        h, w = (int(v) for v in text.lower().split("x"))
        if h <= 0 or w <= 0:
            raise ValueError
        return h, w
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid size '{text}': expected HxW, e.g. 224x224")


def main(argv=None):
    p = argparse.ArgumentParser(description="Export a torchvision model to TorchScript with "
                                            "torchprobe metadata (extra file torchprobe.json).")
    p.add_argument("arch", metavar="ARCH", help="torchvision.models builder name, e.g. googlenet")
    p.add_argument("-o", "--output", required=True, metavar="OUT.pt")
    p.add_argument("--mode", choices=["script", "trace"], default="script")
    p.add_argument("--weights", choices=["pretrained", "random"], default="random")
    p.add_argument("--seed", type=int, default=0, help="seed for random weights (default 0)")
    p.add_argument("--size", type=parse_size, default=(224, 224), metavar="HxW",
                   help="input size recorded in the metadata and used for tracing (default 224x224)")
    p.add_argument("--train", action="store_true", help="save the module in training mode")
    a = p.parse_args(argv)
    directory = os.path.dirname(os.path.abspath(a.output))
    if not os.path.isdir(directory):
        print(f"error: cannot write '{a.output}': no directory '{directory}'", file=sys.stderr)
        return 2
    try:
        export_torchvision(a.arch, a.output, a.mode, a.weights, a.seed, a.size, a.train)
    except ExportError as e:
        print(e, file=sys.stderr)
        return e.exit_code
    except OSError as e:
        print(f"error: cannot write '{a.output}': {e.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
