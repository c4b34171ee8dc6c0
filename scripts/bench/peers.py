#!/usr/bin/python3
"""The two Python ways of reading layer responses that torchprobe is benchmarked against.

    /usr/bin/python3 scripts/bench/peers.py hooks|fx STATE.pt --layer NAME [--layer NAME ...]
        [--batch-size 16] [--threads 2] IMAGE|DIR|@LIST ... -o OUT.json

    hooks  forward hooks on the eager torchvision googlenet; each hook stores output.clone()
           (what a careful user writes: later in-place ops would otherwise change it); the whole
           forward runs, whatever the layers.
    fx     torchvision.models.feature_extraction.create_feature_extractor on the same eager
           model: an FX graph truncated after the last requested node.

Both are written as a competent user would write them: torch.inference_mode(), batches of
--batch-size, torch.set_num_threads(--threads), and the same decoding as torchprobe's default for
the benchmark model (OpenCV: cv2.imread, BGR -> RGB, float32 / 255, cv2.resize INTER_LINEAR to
224x224 (stretch), then (x - ImageNet mean) / std). They read out the centre unit of every
channel, T[:, :, H // 2, W // 2] (a rank-2 output such as fc: the whole vector), and write one
JSON document shaped like torchprobe's (stimuli[].responses[layer].{shape, index, values}), so
the work done per image is comparable.

STATE.pt is a plain state_dict of googlenet as exported by scripts/export_model.py (see
prepare.py); the eager model is rebuilt with export_model.builder_kwargs, as
tests/reference/hooks_reference.py does, minus the weight initialisation the state_dict replaces.
A DIR stimulus means its *.jpg/*.jpeg/*.png files, sorted by name; @LIST a file of paths, one a
line. Exit codes: 0 success, 2 bad arguments or an unreadable image.
"""
import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np
import torch
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import export_model as em  # noqa: E402

ARCH = "googlenet"
SIZE = (224, 224)
MEAN = np.array(em.IMAGENET_MEAN, dtype=np.float32)
STD = np.array(em.IMAGENET_STD, dtype=np.float32)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


def expand_stimuli(args):
    paths = []
    for a in args:
        if a.startswith("@"):
            with open(a[1:]) as f:
                paths += [line.strip() for line in f if line.strip()]
        elif os.path.isdir(a):
            paths += sorted(os.path.join(a, n) for n in os.listdir(a)
                            if n.lower().endswith(IMAGE_EXTENSIONS))
        else:
            paths.append(a)
    return paths


def load_image(path):
    """[H, W, 3] float32, normalised: what torchprobe feeds the model (as HWC)."""
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise OSError(f"error: cannot read image '{path}'")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) * np.float32(1 / 255)
    rgb = cv2.resize(rgb, SIZE[::-1], interpolation=cv2.INTER_LINEAR)
    return (rgb - MEAN) / STD


def build_model(state_path):
    kwargs = dict(em.builder_kwargs(ARCH, "random"), init_weights=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = torchvision.models.get_model(ARCH, weights=None, **kwargs)
    model.load_state_dict(torch.load(state_path, map_location="cpu"))
    return model.eval()


class Hooks:
    """Forward hooks storing output.clone(); the whole model runs."""

    def __init__(self, model, layers):
        self.model = model
        self.store = {}
        modules = dict(model.named_modules())
        for name in layers:
            modules[name].register_forward_hook(self._hook(name))

    def _hook(self, name):
        def hook(module, inputs, output):
            self.store[name] = output.clone()
        return hook

    def __call__(self, x):
        self.store = {}
        self.model(x)
        return self.store


class Fx:
    """torchvision's create_feature_extractor: the graph up to the last requested node."""

    def __init__(self, model, layers):
        from torchvision.models.feature_extraction import create_feature_extractor
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.extractor = create_feature_extractor(model, return_nodes={n: n for n in layers})

    def __call__(self, x):
        return self.extractor(x)


def readout(t):
    """Centre unit of every channel, per stimulus: (shape, index, [values per stimulus])."""
    shape = list(t.shape[1:])
    if t.dim() == 4:
        index = [shape[1] // 2, shape[2] // 2]
        values = t[:, :, index[0], index[1]]
    else:
        index = []
        values = t.reshape(t.shape[0], -1)
    return shape, index, values.tolist()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("way", choices=["hooks", "fx"])
    p.add_argument("state", metavar="STATE.pt")
    p.add_argument("stimuli", nargs="+", metavar="IMAGE|DIR|@LIST")
    p.add_argument("--layer", action="append", required=True)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("-o", "--output", required=True)
    a = p.parse_intermixed_args(argv)

    torch.set_num_threads(a.threads)
    paths = expand_stimuli(a.stimuli)
    model = build_model(a.state)
    probe = (Hooks if a.way == "hooks" else Fx)(model, a.layer)

    records = []
    with torch.inference_mode():
        for start in range(0, len(paths), a.batch_size):
            chunk = paths[start:start + a.batch_size]
            try:
                batch = np.stack([load_image(path) for path in chunk])
            except OSError as e:
                print(e, file=sys.stderr)
                return 2
            x = torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous()
            outputs = probe(x)
            per_layer = {name: readout(outputs[name]) for name in a.layer}
            for i, path in enumerate(chunk):
                responses = {name: {"index": index, "shape": shape, "values": values[i]}
                             for name, (shape, index, values) in per_layer.items()}
                records.append({"id": os.path.basename(path), "index": start + i,
                                "input_shape": [1, 3, *SIZE], "responses": responses})

    doc = {"peer": a.way, "torch": torch.__version__, "layers": a.layer, "readout": "center",
           "batch_size": a.batch_size, "stimuli": records}
    tmp = a.output + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, a.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
