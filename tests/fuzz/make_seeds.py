#!/usr/bin/env python3
"""Writes the seed corpora of merge_fuzzer, resume_fuzzer and model_load_fuzzer.

    /usr/bin/python3 tests/fuzz/make_seeds.py --torchprobe build/src/torchprobe \
        --model build/test-models/tiny_gray_script.pt

merge/ and resume/ hold two texts joined by a 0 byte (see fuzz_files.h): two parts of a real
sharded run (some with damaged headers: the crashes of issue 16), or the new run's header line and
an existing output. model_load/ holds tiny TorchScript archives, whole, cut short and edited.
Each seed stays small (a few KB), so that libFuzzer's default input length fits them. The other
files in those folders are inputs the fuzzers found bugs with (docs/reliability.md), kept as
they were found; this script leaves them alone.
"""
import argparse
import io
import json
import pathlib
import subprocess
import tempfile
import zipfile

import torch

FUZZ_DIR = pathlib.Path(__file__).resolve().parent
STIMULI = ["noise:1", "noise:2", "noise:3", "uniform:0.5"]  # resume_fuzzer.cpp's list


def run(binary, model, out, *extra):
    """A JSON Lines output of `model` on STIMULI, one per batch, with model.path shortened."""
    subprocess.run([binary, "run", model, "-l", "conv2", *STIMULI, "--batch-size", "1",
                    "--size", "8x8", "-o", out, *extra], check=True, capture_output=True)
    lines = pathlib.Path(out).read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    header["model"]["path"] = "m.pt"
    return json.dumps(header, separators=(",", ":"), sort_keys=True) + "\n" + "".join(lines[1:])


def with_header(text, edit):
    lines = text.splitlines(keepends=True)
    header = json.loads(lines[0])
    edit(header)
    return json.dumps(header, separators=(",", ":"), sort_keys=True) + "\n" + "".join(lines[1:])


def nested(depth):
    """A value nested `depth` lists deep: past the readers' bound (detail/json_depth.h)."""
    return "[" * depth + "]" * depth


def set_shard(field, value):
    return lambda header: header["shard"].__setitem__(field, value)


def write(directory, name, data):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data.encode() if isinstance(data, str) else data)


def merge_seeds(outputs, directory):
    p1, p2, q1, q3 = outputs["p1"], outputs["p2"], outputs["q1"], outputs["q3"]
    seeds = {
        "shards_1_2": p1 + "\0" + p2,
        "shard_2_missing": q1 + "\0" + q3,
        "torn_part": p1 + "\0" + p2[:-10],
        "same_shard_twice": p1 + "\0" + p1,
        "unsharded_and_shard": outputs["all"] + "\0" + p2,
        # issue 16: headers merge used to index and allocate by without checking
        "shard_index_0": p1 + "\0" + with_header(p2, set_shard("index", 0)),
        "shard_index_1000000": p1 + "\0" + with_header(p2, set_shard("index", 1000000)),
        "shard_count_huge": with_header(p1, set_shard("count", 10**15)) + "\0" +
                            with_header(p2, set_shard("count", 10**15)),
        "shard_stimuli_negative": p1 + "\0" + with_header(p2, set_shard("stimuli", -1)),
        "shard_index_above_int64": p1 + "\0" + with_header(p2, set_shard("index", 2**64 - 1)),
        "deep_record": p1.replace(',"index":0,', f',"extra":{nested(100)},"index":0,') + "\0" + p2,
    }
    for name, text in seeds.items():
        write(directory, name, text)


def resume_seeds(outputs, directory):
    full, p1 = outputs["all"], outputs["p1"]
    header = full.splitlines(keepends=True)[0]
    other = with_header(full, lambda h: h.__setitem__("readout", "mean")).splitlines()[0]
    lines = full.splitlines(keepends=True)
    seeds = {
        "complete": header + "\0" + full,
        "torn_last_line": header + "\0" + full[:-15],
        "torn_header": header + "\0" + header[:40],
        "shard_1_2": p1.splitlines(keepends=True)[0] + "\0" + p1,
        "other_run": other + "\n\0" + full,
        "records_out_of_order": header + "\0" + lines[0] + lines[2] + lines[1],
        "deep_header": header + "\0" + full.replace('"layers":["conv2"]',
                                                     f'"layers":{nested(100)}', 1),
    }
    for name, text in seeds.items():
        write(directory, name, text)


class OneConv(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 1, 1)

    def forward(self, x):
        return self.conv(x)


def model_seeds(directory):
    torch.manual_seed(0)
    module = torch.jit.script(OneConv().eval())
    buffer = io.BytesIO()
    torch.jit.save(module, buffer, _extra_files={"torchprobe.json": '{"input_size":[1,4,4]}'})
    archive = buffer.getvalue()
    write(directory, "one_conv.pt", archive)
    write(directory, "one_conv_cut_short.pt", archive[: len(archive) // 2])
    write(directory, "one_conv_no_directory.pt", archive[: archive.rfind(b"PK\x01\x02")])
    state = io.BytesIO()
    torch.save(OneConv().state_dict(), state)
    write(directory, "state_dict.pt", state.getvalue())
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("readme.txt", "not a model")
    write(directory, "other_zip.pt", other.getvalue())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torchprobe", required=True, help="the torchprobe binary")
    parser.add_argument("--model", required=True, help="a small test model with a layer 'conv2'")
    parser.add_argument("--out", default=str(FUZZ_DIR / "corpus"), help="the corpus directory")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        outputs = {"all": run(args.torchprobe, args.model, f"{tmp}/all.jsonl")}
        for name, shard in [("p1", "1/2"), ("p2", "2/2"), ("q1", "1/3"), ("q3", "3/3")]:
            outputs[name] = run(args.torchprobe, args.model, f"{tmp}/{name}.jsonl",
                                "--shard", shard)
    merge_seeds(outputs, out / "merge")
    resume_seeds(outputs, out / "resume")
    model_seeds(out / "model_load")


if __name__ == "__main__":
    main()
