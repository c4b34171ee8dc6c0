"""Models exported by PyTorch 2.6 (Debian 13's python3-torch, torchvision 0.21; scripts/debian13.sh)
are probed by this build and match PyTorch 2.6's own forward hooks.

Both exports (torch.jit.script and torch.jit.trace) of googlenet and resnet18 are made inside the
Debian 13 root, the hooks reference runs there too (torch 2.6), and this build's torchprobe
(LibTorch 1.13 on Debian 12, or 2.6 when the suite itself runs in the root) probes the files.

Tolerance: CROSS_VERSION_TOLERANCE x max(1, the response's largest magnitude). Other LibTorch
versions pick other kernels (another summation order): responses of the same model and input
differ by about 4e-6 of their magnitude (1e-4 absolute in googlenet's deep layers, values up to
~30), some 30 float32 ulps; 1e-4 of the magnitude leaves a margin of 25 while a wrong capture
differs by the order of the magnitude itself.

Skipped where no prepared Debian 13 root exists, unless TORCHPROBE_REQUIRE_DEBIAN13=1 (.ci/run),
which turns the skip into a failure.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, SOURCE_DIR, compare, torchprobe

ROOT = Path(os.environ.get("DEBIAN13_ROOT", "/var/cache/torchprobe/debian13"))
SCRIPT = SOURCE_DIR / "scripts" / "debian13.sh"
CROSS_VERSION_TOLERANCE = 1e-4
LAYERS = {"googlenet": ["conv1", "inception3a.branch2.1", "inception4c", "fc"],
          "resnet18": ["layer1.0.relu", "layer3.0.downsample.1", "fc"]}
STIMULI = ["noise:7", "uniform:1@224x244"]
ONE_THREAD = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")


def in_debian13(*args):
    """Runs a command in the Debian 13 root, in the source tree (mounted at /src there)."""
    result = subprocess.run(["bash", str(SCRIPT), "--", *map(str, args)], capture_output=True,
                            text=True)
    assert result.returncode == 0, f"{' '.join(map(str, args))} in Debian 13:\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def scratch():
    """A directory inside the source tree (so visible in the root too), emptied first."""
    if not (ROOT / ".torchprobe-deps").exists():
        message = f"no prepared Debian 13 root at {ROOT} (run scripts/debian13.sh --prepare)"
        if os.environ.get("TORCHPROBE_REQUIRE_DEBIAN13") == "1":
            pytest.fail(message)
        pytest.skip(message)
    directory = Path(BIN).resolve().parents[1] / "from-pytorch26"
    subprocess.run(["rm", "-rf", str(directory)], check=True)
    directory.mkdir()
    return directory


def inside(path):
    """The path of a file of the source tree as the Debian 13 root sees it."""
    return Path("/src") / Path(path).resolve().relative_to(SOURCE_DIR.resolve())


@pytest.mark.parametrize("arch", list(LAYERS))
@pytest.mark.parametrize("kind", ["script", "trace"])
def test_model_exported_by_pytorch26_matches_pytorch26_hooks(scratch, arch, kind):
    exported = scratch / f"{arch}_{kind}.pt"
    in_debian13("python3", "scripts/export_model.py", arch, "--mode", kind, "-o", inside(exported))
    ref = scratch / f"{arch}_{kind}.ref.json"
    layer_args = [a for layer in LAYERS[arch] for a in ("--layer", layer)]
    in_debian13("env", "OMP_NUM_THREADS=1", "python3", "tests/reference/hooks_reference.py",
                inside(exported), *STIMULI, *layer_args, "--preprocess", "none", "--channels-last",
                "-o", inside(ref))
    assert json.loads(ref.read_text())["torch"].startswith("2.")

    ours = scratch / f"{arch}_{kind}.ours.json"
    torchprobe("run", exported, *STIMULI, *layer_args, "--preprocess", "none", "--threads", "1",
               "--no-crop", "-o", ours, env=ONE_THREAD)
    ok, report = compare(ours, ref, atol=CROSS_VERSION_TOLERANCE)
    assert ok, report
    assert "responses compared" in report
