"""The README's run examples (first screen, output schema) show what the binary really prints.

Structure, layer names, shapes and indices must be equal; values within VALUE_TOLERANCE of each
value's magnitude (at least 1), not to the last digit: the README was written on one CPU, and
another instruction set (AVX2 vs AVX-512, ATEN_CPU_CAPABILITY) sums the convolutions in another
order. For the demo model's few layers that moves a value by a few float32 ulps (2**-23 ~ 1.2e-7
relative each); 1e-5 leaves two orders of magnitude for that and is still far below what a changed
model, layer or preprocessing does (differences of the order of the values themselves).
"""
import json
import re

import pytest

from conftest import SOURCE_DIR, torchprobe

VALUE_TOLERANCE = 1e-5

COMMAND = "torchprobe run models/demo.pt --layer stem.bn --layer pool noise:7"
RESPONSE = re.compile(r'"([\w.#]+)": \{"index": (\[[^\]]*\]), "shape": (\[[^\]]*\]), '
                      r'"values": \[([^\]…]*), …\]\}')


def readme_responses():
    """[(section text, {name: (index, shape, first values)})] for each example of COMMAND."""
    text = (SOURCE_DIR / "README.md").read_text()
    examples = []
    for block in re.findall(r"```(?:console|json)\n(.*?)```", text, re.S):
        start = text.index(block)
        if COMMAND not in text[max(0, start - 300):start + len(block)]:
            continue
        found = {m.group(1): (json.loads(m.group(2)), json.loads(m.group(3)),
                              json.loads("[" + m.group(4).rstrip(", ") + "]"))
                 for m in RESPONSE.finditer(block)}
        examples.append((block, found))
    return examples


def test_readme_run_examples_match_a_real_run():
    examples = readme_responses()
    assert len(examples) == 2, "expected the first-screen and the output-schema examples"
    doc = json.loads(torchprobe(*COMMAND.split()[1:], cwd=SOURCE_DIR).stdout)
    responses = doc["stimuli"][0]["responses"]
    for block, found in examples:
        assert sorted(found) == sorted(responses)
        for name, (index, shape, values) in found.items():
            got = responses[name]
            assert (got["index"], got["shape"]) == (index, shape), name
            shown = got["values"][:len(values)]
            scale = max([1.0] + [abs(v) for v in values])
            assert shown == pytest.approx(values, abs=VALUE_TOLERANCE * scale, rel=0), name
        for field in ("fit", "crop_pct", "name"):
            if f'"{field}": ' in block:
                shown = re.search(rf'"{field}": ("[^"]*"|[0-9.]+)', block).group(1)
                assert json.loads(shown) == doc["preprocess"][field], field
