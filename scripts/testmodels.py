#!/usr/bin/python3
"""Small hand-written models that reproduce the traps of capturing layer outputs.

Usage (scripts/ must be on sys.path):
    import testmodels
    model = testmodels.build("loop_module_list", seed=0)   # eval mode, BN calibrated
    demo = testmodels.build_demo(seed=0)                    # the model saved as models/demo.pt

Each model is scriptable and records its input size in `input_chw`. Trap by model:
    untaken_branch      a module ('never') called only inside an `if` that is never taken
    loop_module_list    a ModuleList iterated in a loop ('blocks.0'..'blocks.2'); one module
                        ('shared') called twice in forward
    loop_shared         a real TorchScript loop (prim::Loop, not unrolled): 'shared' called
                        `repeats` (3) times by `for _ in range(self.repeats)`
    tuple_output        a submodule ('split') that returns a tuple of two tensors
    functional_inplace  functional preamble before the first conv, F.relu(inplace=True) after a BN,
                        x.add_(), `out += identity` on a conv's output
    tiny_gray           one input channel
    bn_variants         BatchNorm1d on (N, C) and (N, C, L), BatchNorm3d, affine=False,
                        track_running_stats=False
    coord_conv          coordinate channels computed from the input size (cropping changes them)
    dilated_gaps        a dilated convolution: each unit reads pixels 6 apart, so its receptive
                        field has gaps (a search that assumes one connected region goes wrong)
    identity_modules    modules that return their input in eval mode: 'identity' (nn.Identity) on
                        the model's input, 'res.stochastic_depth' (torchvision's StochasticDepth)
                        on 'res.block's output before the residual add; traced, each is a call
                        without data flow (no argument, returns None)
    DemoNet             all of the above in miniature, with readable names (see models/README.md)

Used by make_test_models.py, make_demo_model.py and tests/reference/hooks_reference.py (which
rebuilds these classes and loads the exported state_dict): renaming a module or changing a
constructor changes the exported files' layer names and breaks loading older files.
"""

from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from export_model import calibrate_batchnorm, float64_initialisation, randomize_batchnorm


class ConvBnRelu(nn.Module):
    """conv -> BatchNorm -> ReLU module (not in-place), as in nn.Sequential-style backbones."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class UntakenBranch(nn.Module):
    """'never' is only called under a condition that is false for every sane input."""

    input_chw = (3, 32, 32)

    def __init__(self):
        super().__init__()
        self.body = ConvBnRelu(3, 8)
        self.never = nn.Conv2d(8, 8, 1)
        self.head = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        x = self.body(x)
        if x.sum() > 1e30:
            x = self.never(x)
        return self.head(x)


class LoopModuleList(nn.Module):
    """A ModuleList iterated in a loop, and 'shared' called twice."""

    input_chw = (3, 32, 32)

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.blocks = nn.ModuleList([ConvBnRelu(8, 8) for _ in range(3)])
        self.shared = nn.Conv2d(8, 8, 3, padding=1)  # no ReLU inside: calls differ only by input

    def forward(self, x):
        x = self.stem(x)
        for b in self.blocks:
            x = b(x)
        x = self.shared(x)
        x = torch.relu(x)
        x = self.shared(x)
        return x


class LoopShared(nn.Module):
    """'shared' called in a loop that scripting keeps: `repeats` is an int attribute, not a
    constant, so the bound is read at run time (a ModuleList loop is unrolled instead)."""

    input_chw = (3, 32, 32)

    def __init__(self, repeats: int = 3):
        super().__init__()
        self.repeats = repeats
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.shared = nn.Conv2d(8, 8, 3, padding=1)
        self.head = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        x = self.stem(x)
        for _ in range(self.repeats):
            x = torch.relu(self.shared(x))
        return self.head(x)


class Split(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.a = nn.Conv2d(cin, cout, 1)
        self.b = nn.Conv2d(cin, cout, 3, padding=1)

    def forward(self, x) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.a(x), self.b(x)


class TupleOutput(nn.Module):
    """'split' returns a tuple (a, b); the parent uses both."""

    input_chw = (3, 32, 32)

    def __init__(self):
        super().__init__()
        self.stem = ConvBnRelu(3, 8)
        self.split = Split(8, 4)
        self.head = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        x = self.stem(x)
        a, b = self.split(x)
        return self.head(torch.cat([a * b, a + b], 1))


class FunctionalInplace(nn.Module):
    """Functional code between modules, and in-place ops on module outputs."""

    input_chw = (3, 32, 32)

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        # Like GoogLeNet's transform_input: per-channel scale and shift of slices, then cat.
        x0 = x[:, 0:1] * 0.5 + 0.1
        x1 = x[:, 1:2] * 0.25 - 0.2
        x2 = x[:, 2:3] * 2.0 + 0.3
        x = torch.cat([x0, x1, x2], 1)
        x = self.conv1(x)
        x = self.bn1(x)
        x = F.relu(x, inplace=True)  # overwrites bn1's output
        x.add_(1.0)                  # and again
        identity = x
        out = self.conv2(x)
        out += identity              # overwrites conv2's output
        out = self.relu(out)         # in-place module: its output is its input
        return out


class TinyGray(nn.Module):
    """One input channel."""

    input_chw = (1, 32, 32)

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 4, 3)

    def forward(self, x):
        return self.conv2(self.relu(self.conv1(x)))


class BnVariants(nn.Module):
    """BatchNorm in every shape bn-check must handle: 2-d without affine parameters, 2-d without
    running statistics, 1-d on (N, C, L), 3-d on a 5-d reshape, 1-d on (N, C) after a Linear."""

    input_chw = (3, 16, 16)

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn_no_affine = nn.BatchNorm2d(8, affine=False)
        self.bn_batch_stats = nn.BatchNorm2d(8, track_running_stats=False)  # batch stats in eval too
        self.bn1d_seq = nn.BatchNorm1d(8)
        self.bn3d = nn.BatchNorm3d(4, eps=1e-3)
        self.fc = nn.Linear(8, 6)
        self.bn1d_fc = nn.BatchNorm1d(6)

    def forward(self, x):
        x = self.conv(x)
        x = self.bn_no_affine(x)
        x = self.bn_batch_stats(x)
        n, c, h, w = x.shape
        x = self.bn1d_seq(x.flatten(2)).view(n, c, h, w)            # (N, 8, H*W)
        x = self.bn3d(x.view(n, 4, 2, h, w)).view(n, c, h, w)       # (N, 4, 2, H, W)
        x = torch.relu(x).mean([2, 3])
        return self.bn1d_fc(self.fc(x))                              # (N, 6)


class CoordConv(nn.Module):
    """CoordConv: y and x coordinate channels in [-1, 1], computed from the input's size, are
    concatenated to the input. Each unit sees a small box of the input, yet its value depends on
    the whole input's size, so a crop changes it (the NaN box search cannot see that)."""

    input_chw = (3, 32, 32)

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(5, 8, 3, padding=1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x):
        n, _, h, w = x.shape
        ys = torch.linspace(-1.0, 1.0, h, dtype=x.dtype).view(1, 1, h, 1).expand(n, 1, h, w)
        xs = torch.linspace(-1.0, 1.0, w, dtype=x.dtype).view(1, 1, 1, w).expand(n, 1, h, w)
        x = torch.cat([x, ys, xs], 1)
        return self.conv2(self.relu(self.conv1(x)))


class DilatedGaps(nn.Module):
    """A 3x3 convolution with dilation 6: unit (y, x) reads input rows y-6, y, y+6 and the same
    columns, nothing in between. Its receptive field is a 13x13 box with gaps."""

    input_chw = (3, 32, 32)

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, dilation=6, padding=6)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 8, 1)

    def forward(self, x):
        return self.conv2(self.relu(self.conv1(x)))


class StochasticResidual(nn.Module):
    """EfficientNet's MBConv residual in miniature: block -> StochasticDepth -> + input."""

    def __init__(self, channels: int):
        super().__init__()
        self.block = ConvBnRelu(channels, channels)
        self.stochastic_depth = torchvision.ops.StochasticDepth(0.2, "row")

    def forward(self, x):
        return self.stochastic_depth(self.block(x)) + x


class IdentityModules(nn.Module):
    """Modules that return their input unchanged in eval mode. torch.jit.trace records such a call
    with no argument and a None result (the graph keeps no data flow through it); scripted, they
    are ordinary calls."""

    input_chw = (3, 32, 32)

    def __init__(self):
        super().__init__()
        self.identity = nn.Identity()
        self.stem = ConvBnRelu(3, 8)
        self.res = StochasticResidual(8)
        self.head = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        x = self.identity(x)
        x = self.stem(x)
        x = self.res(x)
        return self.head(x)


class BasicConv2d(nn.Module):
    """GoogLeNet's BasicConv2d: conv -> BN -> F.relu(inplace=True) in forward (no ReLU module)."""

    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int = 1, padding: int = 0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel_size, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        x = self.conv(x)
        x = self.bn(x)
        return F.relu(x, inplace=True)


class Mixed(nn.Module):
    """An inception-like block: three branches concatenated along channels (8 + 12 + 4)."""

    def __init__(self, cin: int):
        super().__init__()
        self.branch1 = BasicConv2d(cin, 8, 1)
        self.branch2 = nn.Sequential(BasicConv2d(cin, 8, 1), BasicConv2d(8, 12, 3, padding=1))
        self.branch3 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), BasicConv2d(cin, 4, 1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x)], 1)


class DemoNet(nn.Module):
    """The demo model (models/demo.pt): GoogLeNet's capture traps in miniature, 10 classes."""

    input_chw = (3, 64, 64)

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.transform_input = True
        self.stem = BasicConv2d(3, 16, 3, stride=2, padding=1)  # 64x64 -> 32x32
        self.pool = nn.MaxPool2d(2, stride=2)                    # called twice
        self.block1 = BasicConv2d(16, 16, 3, padding=1)
        self.mixed = Mixed(16)                                   # -> 24 channels
        self.block2 = BasicConv2d(24, 32, 3, padding=1)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, num_classes)

    def _transform_input(self, x):
        # GoogLeNet's transform_input: ImageNet-normalised input -> the (x - 0.5) / 0.5 convention.
        x_ch0 = torch.unsqueeze(x[:, 0], 1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5
        x_ch1 = torch.unsqueeze(x[:, 1], 1) * (0.224 / 0.5) + (0.456 - 0.5) / 0.5
        x_ch2 = torch.unsqueeze(x[:, 2], 1) * (0.225 / 0.5) + (0.406 - 0.5) / 0.5
        return torch.cat((x_ch0, x_ch1, x_ch2), 1)

    def forward(self, x):
        if self.transform_input:
            x = self._transform_input(x)
        x = self.stem(x)    # 16 x 32 x 32
        x = self.pool(x)    # 16 x 16 x 16  (pool#0)
        x = self.block1(x)
        x = self.mixed(x)   # 24 x 16 x 16
        x = self.pool(x)    # 24 x 8 x 8    (pool#1)
        x = self.block2(x)  # 32 x 8 x 8
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


HANDWRITTEN = {
    "untaken_branch": UntakenBranch,
    "loop_module_list": LoopModuleList,
    "loop_shared": LoopShared,
    "tuple_output": TupleOutput,
    "functional_inplace": FunctionalInplace,
    "tiny_gray": TinyGray,
    "bn_variants": BnVariants,
    "coord_conv": CoordConv,
    "dilated_gaps": DilatedGaps,
    "identity_modules": IdentityModules,
}


def init(model_class):
    """A model_class() initialised in float64 (the same weights on every CPU, see
    export_model.float64_initialisation), BatchNorm affine parameters randomised and running stats
    calibrated, from the global RNG; returns the model in eval mode, in float32."""
    with float64_initialisation():
        model = model_class()
        randomize_batchnorm(model)
    return calibrate_batchnorm(model, model.input_chw)


def build(name, seed=0):
    """Hand-written model `name` (a key of HANDWRITTEN) with seeded weights, in eval mode."""
    torch.manual_seed(seed)
    return init(HANDWRITTEN[name])


def build_demo(seed=0):
    """DemoNet with seeded weights, in eval mode."""
    torch.manual_seed(seed)
    return init(DemoNet)
