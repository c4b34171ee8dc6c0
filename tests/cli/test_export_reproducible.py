"""scripts/export_model.py writes the same file on every x86-64 CPU, so that a golden file's
model.sha256 (scripts/ci) and the test models do not depend on the machine that exported them.

The CPU cannot be chosen, but its vector units can be taken away: ATen's kernels follow
ATEN_CPU_CAPABILITY, oneDNN's ONEDNN_MAX_CPU_ISA (older name DNNL_MAX_CPU_ISA). Before the float64
initialisation, float32 normal draws took another code path without AVX2 and the files differed.
"""
import hashlib
import os
import subprocess

from conftest import PYTHON, SOURCE_DIR

EXPORT = SOURCE_DIR / "scripts" / "export_model.py"
RESTRICTIONS = {"unrestricted": {},
                "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2",
                         "DNNL_MAX_CPU_ISA": "AVX2"},
                "no vector kernels": {"ATEN_CPU_CAPABILITY": "default",
                                      "ONEDNN_MAX_CPU_ISA": "SSE41", "DNNL_MAX_CPU_ISA": "SSE41"}}


def export_digest(tmp, arch, name, restriction):
    out = tmp / f"{arch}-{name.replace(' ', '_')}.pt"
    env = {k: v for k, v in os.environ.items()
           if k not in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")}
    result = subprocess.run([PYTHON, str(EXPORT), arch, "-o", str(out)], capture_output=True,
                            text=True, env={**env, **restriction})
    assert result.returncode == 0, result.stderr
    return hashlib.sha256(out.read_bytes()).hexdigest()


def test_resnet18_export_is_the_same_file_under_every_instruction_set(tmp):
    digests = {name: export_digest(tmp, "resnet18", name, r) for name, r in RESTRICTIONS.items()}
    assert len(set(digests.values())) == 1, digests
