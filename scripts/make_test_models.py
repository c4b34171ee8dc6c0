#!/usr/bin/python3
"""Generate the TorchScript models that torchprobe's tests run on.

Usage:
    /usr/bin/python3 scripts/make_test_models.py --out DIR [--force]

Writes into DIR (created if missing):
    {googlenet,densenet121,resnet18}_{script,trace}.pt   random weights, seed 0, 224x224
    resnet18_train_script.pt                              saved in training mode
    <name>_{script,trace}.pt                              scripts/testmodels.py HANDWRITTEN, 32x32
    loop_module_list_train_trace.pt                       traced in training mode
    empty.pt random_bytes.pt not_torchscript.zip.pt state_dict.pt truncated.pt frozen.pt
    eager_pickle.pt                                       bad model files for error tests

DIR/.stamp holds the sha256 of the generating scripts. If it matches, files that exist are kept
and only missing ones are written (a no-op run takes about a second); otherwise, or with --force,
everything is regenerated. Output is deterministic: same scripts, same bytes.

NOTE: the weights and metadata equal those of the matching export_model.py command, but the bytes
do not: TorchScript numbers the class types it compiles in one process (___torch_mangle_N), so
type names depend on what was compiled before in the same process.
"""

import os
import sys
import time

START = time.monotonic()  # the reported time includes importing torch

if __name__ == "__main__" and os.environ.get("PYTHONHASHSEED") != "0":
    # NOTE: see export_model.py: TorchScript's saved code depends on string hashing.
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import argparse
import hashlib
import io
import warnings
import zipfile

import numpy as np
import torch

import export_model as em
import testmodels as tm

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = ["export_model.py", "testmodels.py", "make_test_models.py"]
TORCHVISION_ARCHS = ["googlenet", "densenet121", "resnet18"]
SEED = 0
TORCHVISION_CHW = (3, 224, 224)


def sources_digest():
    h = hashlib.sha256()
    for name in SOURCES:
        with open(os.path.join(HERE, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def torch_save_bytes(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


class Generator:
    """Builds each source model at most once; `want(name)` says whether a file must be written."""

    def __init__(self, out, keep_existing):
        self.out = out
        self.keep_existing = keep_existing
        self.models = {}
        self.written = []
        self.skipped = []
        self.notes = []

    def want(self, name):
        if self.keep_existing and os.path.exists(os.path.join(self.out, name)):
            self.skipped.append(name)
            return False
        return True

    def write(self, name, data):
        em.write_atomic(os.path.join(self.out, name), data)
        self.written.append(name)

    def model(self, key):
        if key not in self.models:
            if key in tm.HANDWRITTEN:
                self.models[key] = tm.build(key, SEED)
            else:
                self.models[key] = em.build_torchvision(key, "random", SEED, TORCHVISION_CHW)
        return self.models[key]

    def export(self, name, key, arch, mode, chw, training=False):
        if not self.want(name):
            return
        try:
            module = em.to_torchscript(self.model(key), mode, chw, training)
        except Exception as e:  # a hand-written model that cannot be traced: say so, go on
            self.notes.append(f"{name}: not written, {mode} failed: {str(e).splitlines()[0]}")
            return
        meta = em.make_metadata(arch, "random", SEED, mode, training, chw)
        self.write(name, em.torchscript_bytes(module, meta))

    def torchvision_models(self):
        for arch in TORCHVISION_ARCHS:
            for mode in ("script", "trace"):
                self.export(f"{arch}_{mode}.pt", arch, arch, mode, TORCHVISION_CHW)
        self.export("resnet18_train_script.pt", "resnet18", "resnet18", "script", TORCHVISION_CHW,
                    training=True)

    def handwritten_models(self):
        for name, cls in tm.HANDWRITTEN.items():
            for mode in ("script", "trace"):
                self.export(f"{name}_{mode}.pt", name, f"testmodels.{name}", mode, cls.input_chw)
        # NOTE: tracing in training mode fixes aten::batch_norm's `training` argument to true in the
        # graph: setting the modules to eval afterwards (--mode eval) cannot switch it back.
        chw = tm.LoopModuleList.input_chw
        self.export("loop_module_list_train_trace.pt", "loop_module_list", "testmodels.loop_module_list",
                    "trace", chw, training=True)

    def bad_models(self):
        if self.want("empty.pt"):
            self.write("empty.pt", b"")
        if self.want("random_bytes.pt"):
            self.write("random_bytes.pt", np.random.RandomState(SEED).bytes(4096))
        if self.want("not_torchscript.zip.pt"):
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as z:
                info = zipfile.ZipInfo("readme.txt", date_time=(1980, 1, 1, 0, 0, 0))
                z.writestr(info, "A valid zip file that is not a TorchScript archive.\n")
            self.write("not_torchscript.zip.pt", buffer.getvalue())
        if self.want("state_dict.pt"):
            self.write("state_dict.pt", torch_save_bytes(self.model("functional_inplace").state_dict()))
        if self.want("truncated.pt"):
            chw = tm.UntakenBranch.input_chw
            meta = em.make_metadata("testmodels.untaken_branch", "random", SEED, "script", False, chw)
            data = em.torchscript_bytes(torch.jit.script(self.model("untaken_branch")), meta)
            self.write("truncated.pt", data[: len(data) // 2])
        if self.want("frozen.pt"):
            # NOTE: with metadata, so that a loader refuses it for being frozen, not for lacking it.
            chw = tm.FunctionalInplace.input_chw
            meta = em.make_metadata("testmodels.functional_inplace", "random", SEED, "script", False, chw)
            frozen = torch.jit.freeze(torch.jit.script(self.model("functional_inplace")))
            self.write("frozen.pt", em.torchscript_bytes(frozen, meta))
        if self.want("eager_pickle.pt"):
            # Loading it back in Python needs scripts/ on sys.path (the class lives in testmodels).
            self.write("eager_pickle.pt", torch_save_bytes(self.model("untaken_branch")))


def main(argv=None):
    p = argparse.ArgumentParser(description="Generate torchprobe's test models.")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--force", action="store_true", help="regenerate everything")
    a = p.parse_args(argv)

    os.makedirs(a.out, exist_ok=True)
    stamp_path = os.path.join(a.out, ".stamp")
    digest = sources_digest()
    stamp = open(stamp_path).read().strip() if os.path.exists(stamp_path) else ""
    keep_existing = not a.force and stamp == digest
    if not keep_existing and os.path.exists(stamp_path):
        os.unlink(stamp_path)  # a failed run must not leave a valid stamp over stale files

    g = Generator(a.out, keep_existing)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        g.handwritten_models()
        g.bad_models()
        g.torchvision_models()
    em.write_atomic(stamp_path, (digest + "\n").encode())

    for name in g.written:
        size = os.path.getsize(os.path.join(a.out, name))
        print(f"  wrote {name:32s} {size / 1e6:9.3f} MB")
    for note in g.notes:
        print(f"  note: {note}")
    print(f"make_test_models: {len(g.written)} written, {len(g.skipped)} up to date in {a.out}, "
          f"{time.monotonic() - START:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
