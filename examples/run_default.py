#!/usr/bin/env python3
"""Runs the embedded default (examples/default.mlir) end to end:

1. kda-opt parses and verifies the kda.forward op and prints it;
2. kda-compile compiles it to a kernel bundle (PTX for sm_90a + manifest);
3. the op's operand types and attributes are read back from kda-opt's print;
4. the exact C reference runs it on generated inputs (seeded; FlashKDA's
   benchmark recipe: randn q, k, v, g, beta, rand A_log and dt_bias): the
   script prints the shapes, a checksum of each result and the time;
5. with a CUDA GPU, the compiled kernel runs on the same inputs: the script
   prints its error against the reference (spec §5) and its time. Without
   one it says so.

Usage: run_default.py [--mlir FILE] [--kda-opt PATH] [--kda-compile PATH]
                      [--workdir DIR] [--bundle FILE] [--seed N]
The bundle goes to DIR (build/example). --bundle runs one compiled earlier
instead of compiling, for a GPU machine without MLIR.
"""

import argparse
import pathlib
import os
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "runtime" / "python"))

import torch  # noqa: E402

import kda  # noqa: E402

DTYPES = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32,
          "i32": torch.int32, "i64": torch.int64}
OPTIONAL_OPERANDS = ("A_log", "dt_bias", "initial_state", "cu_seqlens")


def parse_tensor_type(text):
    """'tensor<2x1024x4x128xbf16>' -> ((2, 1024, 4, 128), torch.bfloat16)."""
    m = re.fullmatch(r"tensor<((?:\d+x)*)(\w+)>", text.strip())
    if not m:
        raise ValueError(f"only static tensor types can be run, got {text}")
    shape = tuple(int(d) for d in m.group(1).split("x") if d)
    return shape, DTYPES[m.group(2)]


def parse_forward(printed):
    """Operand types, result types and attributes of the kda.forward op in
    kda-opt's print."""
    line = next(l for l in printed.splitlines() if "kda.forward" in l)
    operands = ["q", "k", "v", "g", "beta"] + [
        name for name in OPTIONAL_OPERANDS if f" {name}(" in line]
    attrs_text = re.search(r"\{(.*)\}\s*:", line)
    attrs = {}
    if attrs_text:
        for item in re.split(r",\s*(?![^<]*>)", attrs_text.group(1)):
            key, _, value = item.partition("=")
            attrs[key.strip()] = value.strip()
    signature = line[line.rindex(" : (") + 4:]
    inputs, results = signature.split(") -> ")
    types = [parse_tensor_type(t) for t in re.findall(r"tensor<[^>]*>", inputs)]
    results = [parse_tensor_type(t) for t in re.findall(r"tensor<[^>]*>", results)]
    return dict(zip(operands, types)), results, attrs


def enum_value(attrs, key, default):
    m = re.search(r"<(\w+)>", attrs.get(key, ""))
    return m.group(1) if m else default


def make_inputs(types, gen):
    def randn(name, scale=1.0):
        shape, dtype = types[name]
        return (torch.randn(shape, generator=gen) * scale).to(dtype)

    x = {name: randn(name) for name in ("q", "k", "v", "g", "beta")}
    if "A_log" in types:
        x["A_log"] = torch.rand(types["A_log"][0], generator=gen)
    if "dt_bias" in types:
        x["dt_bias"] = torch.rand(types["dt_bias"][0], generator=gen)
    if "initial_state" in types:
        x["initial_state"] = randn("initial_state", 0.1)
    if "cu_seqlens" in types:
        (length,), dtype = types["cu_seqlens"]
        T = types["q"][0][1]
        cuts = torch.sort(torch.randint(0, T + 1, (length - 2,), generator=gen)).values
        x["cu_seqlens"] = torch.cat([torch.tensor([0]), cuts, torch.tensor([T])]).to(dtype)
    return x


def checksum(t):
    t = t.double()
    return f"sum {t.sum().item():+.6e}, sum|x| {t.abs().sum().item():.6e}"


def compile_bundle(args, directory):
    """kda-compile the example into `directory`; returns the bundle path."""
    bundle = pathlib.Path(directory) / "default.kdab"
    start = time.perf_counter()
    subprocess.run([args.kda_compile, args.mlir, "-o", str(bundle)], check=True)
    header = bundle.read_bytes().split(b"\nptx ")[0].decode().splitlines()
    kernel = next(line.split(" ", 1)[1] for line in header if line.startswith("kernel "))
    print(f"== kda-compile: {bundle.stat().st_size} byte bundle, kernel {kernel}, "
          f"{time.perf_counter() - start:.1f} s ==")
    return bundle


def run_on_gpu(call, x, reference_results):
    """The compiled kernel on the GPU: error against the reference, time."""
    from accuracy import rel_rms  # test/python, the spec §5 measure
    import torch
    dev = {k: (t.cuda() if isinstance(t, torch.Tensor) else t) for k, t in x.items()}
    o, s = call(dev)
    torch.cuda.synchronize()
    times = []
    for _ in range(20):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        call(dev)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    o_ref, s_ref = reference_results
    print(f"== the compiled kernel on {torch.cuda.get_device_name(0)} ==")
    print(f"  err(o) = {rel_rms(o_ref, o.cpu()):.2e}", end="")
    if s is not None:
        print(f", err(final_state) = {rel_rms(s_ref, s.cpu()):.2e}", end="")
    print(f" (spec §5 bar 5e-3); kernel time {sorted(times)[len(times) // 2]:.3f} ms "
          "(median of 20)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mlir", default=str(ROOT / "examples" / "default.mlir"))
    parser.add_argument("--kda-opt", default=str(ROOT / "build" / "bin" / "kda-opt"))
    parser.add_argument("--kda-compile", default=str(ROOT / "build" / "bin" / "kda-compile"))
    parser.add_argument("--bundle", help="a bundle compiled elsewhere (skips kda-opt "
                                         "and kda-compile)")
    parser.add_argument("--workdir", default=str(ROOT / "build" / "example"),
                        help="where the compiled bundle goes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "test" / "python"))

    if args.bundle:
        # kda-opt's print of the op was saved beside the bundle.
        bundle = pathlib.Path(args.bundle)
        printed = bundle.with_suffix(".printed.mlir").read_text()
    else:
        workdir = pathlib.Path(args.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        printed = subprocess.run([args.kda_opt, args.mlir], check=True,
                                 capture_output=True, text=True).stdout
        print(f"== kda-opt verified {args.mlir} ==")
        print(printed)
        bundle = compile_bundle(args, workdir)
        bundle.with_suffix(".printed.mlir").write_text(printed)
    # The CUDA path picks its kernel from this directory: the one just built.
    os.environ["KDA_BUNDLE_DIR"] = str(bundle.parent)

    types, results, attrs = parse_forward(printed)
    gate = enum_value(attrs, "gate", "precomputed")
    beta_mode = enum_value(attrs, "beta_mode", "plain")
    lower_bound = float(attrs["lower_bound"].split(":")[0]) if "lower_bound" in attrs else None
    x = make_inputs(types, torch.Generator().manual_seed(args.seed))

    def call(t):
        return kda.chunk_kda(
            t["q"], t["k"], t["v"], t["g"], t["beta"],
            scale=float(attrs["scale"].split(":")[0]) if "scale" in attrs else None,
            initial_state=t.get("initial_state"), output_final_state=len(results) == 2,
            use_qk_l2norm_in_kernel="qk_l2norm" in attrs,
            use_gate_in_kernel=gate != "precomputed",
            use_beta_sigmoid_in_kernel=beta_mode != "plain",
            allow_neg_eigval=beta_mode == "sigmoid_neg_eigval",
            lower_bound=lower_bound, A_log=t.get("A_log"), dt_bias=t.get("dt_bias"),
            state_v_first=enum_value(attrs, "state_layout", "kv") == "vk",
            cu_seqlens=t.get("cu_seqlens"))

    start = time.perf_counter()
    o, final_state = call(x)
    elapsed = time.perf_counter() - start

    print("== the C reference (float64, CPU) on generated inputs ==")
    print(f"gate {gate}, beta {beta_mode}, l2norm {'qk_l2norm' in attrs}, seed {args.seed}")
    for name, t in x.items():
        print(f"  {name:14s} {str(tuple(t.shape)):22s} {str(t.dtype).replace('torch.', '')}")
    print(f"  o              {str(tuple(o.shape)):22s} {checksum(o)}")
    if final_state is not None:
        print(f"  final_state    {str(tuple(final_state.shape)):22s} {checksum(final_state)}")
    print(f"reference time: {elapsed * 1e3:.1f} ms")

    if torch.cuda.is_available() and torch.cuda.get_device_capability() == (9, 0):
        run_on_gpu(call, x, (o.double(), None if final_state is None
                             else final_state.double()))
    else:
        print("== no Hopper GPU here: the kernel was compiled to PTX (above) but "
              "not run; on an H100/H200 this step prints its error and time ==")


if __name__ == "__main__":
    main()
