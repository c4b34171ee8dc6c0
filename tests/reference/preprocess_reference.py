#!/usr/bin/python3
"""Reference model inputs in numpy, independent of torchprobe's C++ (README "Stimuli and
preprocessing", docs/stimuli.md; src/torchprobe/stimuli/image.h, synthetic.h).

Usage:
    /usr/bin/python3 tests/reference/preprocess_reference.py SPEC --size HxW [--channels C]
        [--fit stretch|crop] [--crop-pct P] [--mean M,...] [--std S,...] -o OUT.npy

Writes float32 [1, C, H, W]. Also importable: model_input(spec, size, ...) and the pieces below.

What is shared with torchprobe and what is not:
  - decoding: cv2.imread(IMREAD_UNCHANGED), the same system OpenCV (libjpeg, libpng) the C++ side
    links, so decoded pixels are the same bytes; decoding is not what is under test.
  - everything after decoding is re-implemented here in numpy: depth scaling, channel
    conversion, bilinear resizing (pixel centres aligned, clamped at the borders: OpenCV's
    INTER_LINEAR convention), the crop geometry and the synthetic stimuli in float64, rounded
    once to float32 pixels; the normalisation in float32.
"""
import argparse
import math
import re
import sys

import cv2
import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
GRATING_DEFAULTS = {"ori": 0.0, "sf": 8.0, "phase": 0.0, "contrast": 1.0, "mean": 0.5}


# ----------------------------------------------------------------------------------- images

def decode(path):
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"cannot decode {path}")
    return image


def to_unit_float(image):
    """float64 pixels: 8-bit / 255, 16-bit / 65535, float as is."""
    if image.dtype == np.uint8:
        return image.astype(np.float64) / 255.0
    if image.dtype == np.uint16:
        return image.astype(np.float64) / 65535.0
    if image.dtype == np.float32:
        return image.astype(np.float64)
    raise ValueError(f"unsupported dtype {image.dtype}")


def to_channels(pixels, channels):
    """HxW[xK] BGR(A) float -> HxWxC RGB (or gray), alpha dropped."""
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    k = pixels.shape[2]
    if k in (1, 2):
        gray = pixels[:, :, :1]
        return gray if channels == 1 else np.repeat(gray, 3, axis=2)
    rgb = pixels[:, :, 2::-1]  # BGR(A) -> RGB, alpha dropped
    if channels == 1:
        return (0.299 * rgb[:, :, 0] + 0.587 * rgb[:, :, 1] + 0.114 * rgb[:, :, 2])[:, :, None]
    return rgb


def _taps(src, dst):
    """Source indices and weights of bilinear resizing from src to dst samples: pixel centres
    aligned, x_src = (x_dst + 0.5) * src / dst - 0.5, clamped to the first/last pixel."""
    x = (np.arange(dst, dtype=np.float64) + 0.5) * (src / dst) - 0.5
    x0 = np.floor(x)
    w = x - x0
    x0 = x0.astype(np.int64)
    w[x0 < 0] = 0.0
    x0[x0 < 0] = 0
    last = x0 >= src - 1
    w[last] = 0.0
    x0[last] = src - 1
    x1 = np.minimum(x0 + 1, src - 1)
    return x0, x1, w


def resize_bilinear(image, h, w):
    """HxWxC float64 -> h x w x C."""
    if image.shape[0] == h and image.shape[1] == w:
        return image
    y0, y1, wy = _taps(image.shape[0], h)
    x0, x1, wx = _taps(image.shape[1], w)
    rows = image[y0] * (1 - wy)[:, None, None] + image[y1] * wy[:, None, None]
    return rows[:, x0] * (1 - wx)[None, :, None] + rows[:, x1] * wx[None, :, None]


def crop_box(image_hw, target_hw, crop_pct=0.875):
    """((resized_h, resized_w), top, left): torchvision's Resize(round(S/p)) + CenterCrop(S),
    extended to H x W targets. round() is Python's (half to even), as in torchvision."""
    h, w = image_hw
    th, tw = target_hw
    rh, rw = round(th / crop_pct), round(tw / crop_pct)
    if rh * w >= rw * h:
        resized = (rh, max(tw, rh * w // h))
    else:
        resized = (max(th, rw * h // w), rw)
    return resized, round((resized[0] - th) / 2.0), round((resized[1] - tw) / 2.0)


def image_pixels(path, size, channels=3, fit="stretch", crop_pct=0.875):
    """float64 [C, H, W] pixels of an image file, before normalisation."""
    pixels = to_channels(to_unit_float(decode(path)), channels)
    h, w = size
    if fit == "stretch":
        out = resize_bilinear(pixels, h, w)
    else:
        (rh, rw), top, left = crop_box(pixels.shape[:2], size, crop_pct)
        out = resize_bilinear(pixels, rh, rw)[top:top + h, left:left + w]
    return np.ascontiguousarray(out.transpose(2, 0, 1))


# ------------------------------------------------------------------------------- synthetic

def _mix(z):
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def noise(seed, shape, dist="uniform"):
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.uint64)
    seed = np.uint64(seed)
    with np.errstate(over="ignore"):
        if dist == "uniform":
            z = _mix(seed + (i + np.uint64(1)) * GOLDEN)
            return ((z >> np.uint64(40)).astype(np.float64) / 2.0 ** 24).reshape(shape)
        a = _mix(seed + (np.uint64(2) * i + np.uint64(1)) * GOLDEN)
        b = _mix(seed + (np.uint64(2) * i + np.uint64(2)) * GOLDEN)
    u1 = ((a >> np.uint64(11)) + np.uint64(1)).astype(np.float64) / 2.0 ** 53
    u2 = (b >> np.uint64(11)).astype(np.float64) / 2.0 ** 53
    return (0.5 + 0.25 * np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)).reshape(shape)


def grating(params, channels, h, w):
    p = dict(GRATING_DEFAULTS, **params)
    x = np.arange(w, dtype=np.float64) - (w - 1) / 2.0
    y = (h - 1) / 2.0 - np.arange(h, dtype=np.float64)
    t, phase = math.radians(p["ori"]), math.radians(p["phase"])
    d = x[None, :] * math.cos(t) + y[:, None] * math.sin(t)
    plane = p["mean"] * (1.0 + p["contrast"] * np.cos(2.0 * np.pi * p["sf"] / w * d + phase))
    return np.repeat(plane[None], channels, axis=0)


SYNTHETIC_RE = re.compile(r"^(uniform|noise|grating):([^@]*)(?:@(\d+)x(\d+))?$")


def synthetic_pixels(spec, channels, size):
    """float64 [C, H, W] of uniform:/noise:/grating: specs."""
    m = SYNTHETIC_RE.match(spec)
    if not m:
        raise ValueError(f"not a synthetic spec: {spec}")
    kind, body, h, w = m.groups()
    h, w = (int(h), int(w)) if h else size
    if kind == "uniform":
        return np.full((channels, h, w), float(body))
    fields = body.split(",") if body else []
    if kind == "noise":
        options = dict(f.split("=", 1) for f in fields[1:])
        return noise(int(fields[0]), (channels, h, w), options.get("dist", "uniform"))
    return grating({k: float(v) for k, v in (f.split("=", 1) for f in fields)}, channels, h, w)


# ------------------------------------------------------------------------------ the input

def model_input(spec, size, channels=3, fit="stretch", crop_pct=0.875, mean=None, std=None):
    """float32 [1, C, H, W]: what torchprobe feeds the model for `spec`. Pixels are computed in
    float64 and rounded once to float32; the normalisation is float32 arithmetic with float32
    mean and std, as torchvision's Normalize on a float tensor."""
    if SYNTHETIC_RE.match(spec):
        x = synthetic_pixels(spec, channels, size)
    else:
        x = image_pixels(spec, size, channels, fit, crop_pct)
    x = x.astype(np.float32)
    if mean is not None:
        m = np.resize(np.asarray(mean, dtype=np.float32), channels)[:, None, None]
        s = np.resize(np.asarray(std, dtype=np.float32), channels)[:, None, None]
        x = (x - m) / s
    return x[None]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("spec")
    p.add_argument("--size", required=True)
    p.add_argument("--channels", type=int, default=3)
    p.add_argument("--fit", choices=["stretch", "crop"], default="stretch")
    p.add_argument("--crop-pct", type=float, default=0.875)
    p.add_argument("--mean")
    p.add_argument("--std")
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args(argv)
    h, w = (int(v) for v in a.size.split("x"))
    floats = lambda text: [float(v) for v in text.split(",")] if text else None  # noqa: E731
    mean, std = floats(a.mean), floats(a.std)
    if (mean is None) != (std is None):
        mean, std = mean or [0.0], std or [1.0]
    np.save(a.output, model_input(a.spec, (h, w), a.channels, a.fit, a.crop_pct, mean, std))
    return 0


if __name__ == "__main__":
    sys.exit(main())
