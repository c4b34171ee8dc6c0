#!/usr/bin/python3
"""Inputs of the benchmark (scripts/bench/run.sh): a googlenet and a folder of JPEGs, made once.

    /usr/bin/python3 scripts/bench/prepare.py --cache build/bench-cache --images 1000

Writes into the cache directory (each file only if it is missing, so reruns cost nothing):
    googlenet.pt          scripts/export_model.py googlenet --weights random --seed 0
    googlenet_state.pt    the same weights as a plain state_dict (torch.save), what the Python
                          peers load into torchvision's eager googlenet, as a user's script would
    images-N/img00000.jpg ... N deterministic 256x256 JPEGs (quality 90), exactly N files: a
                          directory stimulus takes all of them. Image i depends on i only, so
                          images-64 holds the first 64 images of images-1000.
    images-N.txt          the same paths, one a line (for tools without directory stimuli)

Image i is a sinusoidal grating (orientation, spatial frequency, phase and colour from a
generator seeded with i) plus smooth coloured noise plus a little pixel noise, so that JPEG
decoding costs what it costs on natural pictures rather than on flat ones.
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2]
SIZE = 256


def export_model(cache):
    model = cache / "googlenet.pt"
    if not model.exists():
        subprocess.run([sys.executable, str(SOURCE / "scripts" / "export_model.py"), "googlenet",
                        "-o", str(model), "--weights", "random", "--seed", "0"], check=True)
    state = cache / "googlenet_state.pt"
    if not state.exists():
        import torch
        scripted = torch.jit.load(str(model), map_location="cpu")
        tmp = state.with_suffix(".tmp")
        torch.save(scripted.state_dict(), str(tmp))
        os.replace(tmp, state)
    return model


def make_image(index):
    import cv2
    import numpy as np
    rng = np.random.default_rng(index)
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / SIZE
    angle = rng.uniform(0, np.pi)
    cycles = rng.uniform(1, 24)
    phase = rng.uniform(0, 2 * np.pi)
    wave = np.sin(2 * np.pi * cycles * (x * np.cos(angle) + y * np.sin(angle)) + phase)
    colour = rng.uniform(20, 110, 3).astype(np.float32)
    image = 128 + wave[..., None] * colour
    smooth = rng.uniform(-60, 60, (8, 8, 3)).astype(np.float32)
    image += cv2.resize(smooth, (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)
    image += rng.normal(0, 8, image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def make_images(cache, count):
    import cv2
    folder = cache / f"images-{count}"
    listing = cache / f"images-{count}.txt"
    names = [f"img{i:05d}.jpg" for i in range(count)]
    if not (listing.exists() and all((folder / n).exists() for n in names)):
        folder.mkdir(parents=True, exist_ok=True)
        for i, name in enumerate(names):
            path = folder / name
            if not path.exists():
                cv2.imwrite(str(path), make_image(i), [cv2.IMWRITE_JPEG_QUALITY, 90])
        listing.write_text("".join(str(folder / n) + "\n" for n in names))
    extra = sorted(set(os.listdir(folder)) - set(names))
    if extra:
        sys.exit(f"error: unexpected files in '{folder}': {extra[:3]}\n"
                 f"hint: remove the folder; it is made again")
    return folder


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cache", required=True, type=Path)
    p.add_argument("--images", type=int, nargs="+", default=[1000],
                   help="folder sizes to make (default 1000)")
    a = p.parse_args()
    a.cache.mkdir(parents=True, exist_ok=True)
    export_model(a.cache)
    for count in a.images:
        make_images(a.cache, count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
