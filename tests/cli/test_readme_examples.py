"""The README's run examples (first screen, output schema) show what the binary really prints."""
import json
import re

from conftest import SOURCE_DIR, torchprobe

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
            assert got["values"][:len(values)] == values, name
        for field in ("fit", "crop_pct", "name"):
            if f'"{field}": ' in block:
                shown = re.search(rf'"{field}": ("[^"]*"|[0-9.]+)', block).group(1)
                assert json.loads(shown) == doc["preprocess"][field], field
