"""Every kernel bundle the build ships: a well-formed manifest, PTX with the
Hopper instructions the kernel is built on, and PTX that ptxas assembles for
sm_90a (the check that needs no GPU)."""

import os
import pathlib
import re
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("KDA_BUILD_DIR", ROOT / "build"))
BUNDLES = sorted((BUILD / "bundles").glob("*.kdab"))
REQUIRED = {"op", "kernel", "threads", "shared_bytes", "head_dim_k", "head_dim_v",
            "gate", "beta_mode", "qk_l2norm", "state_layout", "qkv_dtype", "g_dtype",
            "beta_dtype", "grid", "params", "value_blocks"}
REQUIRED_BY_OP = {"forward": {"chunk_size", "stages", "chunk_local_warpgroups",
                              "cluster_ctas", "head_ctas", "handoff_depth",
                              "initial_state_dtype", "final_state_dtype",
                              "tensor_maps", "tensor_map_box_rows", "tensor_map_swizzle",
                              "segment_scan"},
                  "decode": {"pool_dtype"}}


def ptxas():
    found = shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"
    assert os.path.exists(found), "ptxas (CUDA toolkit) is needed to check the PTX"
    return found


def read_bundle(path):
    data = path.read_bytes()
    header, _, rest = data.partition(b"\nptx ")
    lines = header.decode().split("\n")
    assert lines[0] == "kda-bundle 1"
    manifest = dict(line.split(" ", 1) for line in lines[1:])
    size, _, ptx = rest.partition(b"\n")
    assert int(size) == len(ptx), "the ptx entry's size does not match"
    return manifest, ptx.decode()


def test_the_build_ships_bundles():
    # Forward: 2 state dtypes x 2 layouts x (K = 128: FlashKDA's mode and
    # the softplus mode, each with f32 and bf16 g and beta, and the
    # precomputed gate; K = 64: the three modes with f32 g and beta), and
    # each K = 128 one again with its value rows split over two CTAs that
    # form a cluster and split the chunk-local work, and those with bf16 g
    # twice more as clusters of three and six (one and four helper CTAs;
    # two chunk-local warpgroups each with one TMA stage, and one with
    # two; one handoff stage). At K = 128 the
    # unsplit ones have two handoff stages per chunk-local warpgroup. As
    # many TMA stages as fit: two with bf16 g, one with f32 g. K = 128 with
    # V = 256: the five mode / g entries, always split over two CTAs (two
    # handoff stages, one TMA stage), and with bf16 g once more as a
    # cluster of the two (one handoff stage, one TMA stage). The segment
    # scan for FlashKDA's and the softplus mode with bf16 g, f32 states in
    # the vk layout. Each unsplit forward bundle (and the V = 256 ones
    # without a cluster) again in 32-token chunks (_chunk32; test_chunk32).
    # Decode: the three modes x 2 layouts at K = 128 and at K = 64.
    every = {p.stem: read_bundle(p)[0] for p in BUNDLES}
    ops = [m["op"] for m in every.values()]
    assert ops.count("forward") == 68 + 20 + 8 + 2 + 52 and ops.count("decode") == 12, ops
    manifests = {n: m for n, m in every.items() if m.get("chunk_size", "16") == "16"}
    scans = {n: m for n, m in manifests.items() if m.get("segment_scan") == "1"}
    assert sorted(scans) == [
        f"forward_k128_v128_{mode}_l2norm_sigmoid_gbf16_f32_vk_segments"
        for mode in ("lowerbound", "softplus")]
    for name, m in scans.items():
        # the cluster of two's choices and schedule, the combining kernels
        split = manifests[name.replace("_segments", "_vb2")]
        segment_keys = {"kernel", "segment_scan", "segment_tokens", "shared_bytes", "stages"} | {
            k for k in m if k.startswith(("compose_", "correct_"))}
        assert {k: v for k, v in m.items() if k not in segment_keys} == \
            {k: v for k, v in split.items() if k not in segment_keys}
        assert (m["stages"], m["handoff_depth"], m["segment_tokens"]) == ("1", "1", "128")
    wide = {n: m for n, m in manifests.items() if m.get("head_dim_v") == "256"}
    assert len(wide) == 28 and all(m["head_dim_k"] == "128" for m in wide.values())
    for name, m in wide.items():
        clustered = name.endswith("_vb2")
        assert clustered == (m["cluster_ctas"] == "2")
        assert clustered <= (m["g_dtype"] == "bf16")
        assert (m["value_blocks"], m["head_ctas"], m["handoff_depth"], m["stages"]) == \
            ("2", "2", "1" if clustered else "2", "1")
        if not clustered and m["g_dtype"] == "bf16":
            assert name + "_vb2" in wide
    for name, m in manifests.items():
        if m["op"] == "forward" and m["head_dim_k"] == "128" and m["value_blocks"] == "1":
            split = manifests[name + "_vb2"]
            stages = "2" if m["g_dtype"] == "bf16" else "1"
            assert (m["chunk_local_warpgroups"], m["cluster_ctas"], m["head_ctas"],
                    m["handoff_depth"], m["stages"]) == ("2", "0", "1", "2", stages)
            assert (split["value_blocks"], split["cluster_ctas"], split["head_ctas"],
                    split["handoff_depth"], split["stages"]) == ("2", "2", "2", "1", stages)
            schedule = ("value_blocks", "cluster_ctas", "head_ctas", "handoff_depth", "stages",
                        "chunk_local_warpgroups", "kernel", "shared_bytes")
            assert {k: v for k, v in split.items() if k not in schedule} == \
                {k: v for k, v in m.items() if k not in schedule}
            for ctas, local, ring in (("3", "2", "1"), ("6", "1", "2")):
                helped = manifests.get(name + "_vb2_c" + ctas)
                assert (helped is not None) == (m["g_dtype"] == "bf16")
                if helped:
                    assert (helped["value_blocks"], helped["cluster_ctas"], helped["head_ctas"],
                            helped["chunk_local_warpgroups"], helped["handoff_depth"],
                            helped["stages"]) == ("2", ctas, ctas, local, "1", ring)
                    assert {k: v for k, v in helped.items() if k not in schedule} == \
                        {k: v for k, v in m.items() if k not in schedule}


def test_chunk32():
    # Every forward bundle without a suffix (K = V = 128 and 64, and
    # V = 256 as two CTAs without a cluster) has a _chunk32 twin: the same
    # choices in 32-token chunks, with one chunk-local warpgroup and two
    # handoff stages at K = 128 (the twin's TMA stages), two with one
    # handoff and one TMA stage at K = 64.
    every = {p.stem: read_bundle(p)[0] for p in BUNDLES}
    twins = {n: m for n, m in every.items() if m.get("chunk_size") == "32"}
    assert len(twins) == 52 and all(n.endswith("_chunk32") for n in twins)
    schedule = ("chunk_size", "chunk_local_warpgroups", "handoff_depth", "stages", "kernel",
                "shared_bytes", "tensor_map_box_rows")
    for name, m in twins.items():
        base = every[name.removesuffix("_chunk32")]
        assert base["chunk_size"] == "16" and base["tensor_map_box_rows"] == "16"
        assert {k: v for k, v in m.items() if k not in schedule} == \
            {k: v for k, v in base.items() if k not in schedule}
        wide = m["head_dim_k"] == "128"
        expected = ("1", "2", base["stages"]) if wide else ("2", "1", "1")
        assert (m["chunk_local_warpgroups"], m["handoff_depth"], m["stages"]) == expected
        assert (m["tensor_map_box_rows"], m["cluster_ctas"], m["segment_scan"]) == ("32", "0", "0")


@pytest.mark.parametrize("path", BUNDLES, ids=lambda p: p.stem)
def test_bundle(path, tmp_path):
    manifest, ptx = read_bundle(path)
    required = REQUIRED | REQUIRED_BY_OP[manifest["op"]]
    assert required <= manifest.keys(), required - manifest.keys()
    assert 0 < int(manifest["shared_bytes"]) <= 227 * 1024
    assert f".entry {manifest['kernel']}(" in ptx
    if manifest["op"] == "forward":
        # four warpgroups: one to three chunk-local ones, the rest state
        assert int(manifest["threads"]) == 512
        local = int(manifest["chunk_local_warpgroups"])
        assert local in (1, 2, 3)
        # 16-token chunks: the chunk-local side gives registers up, the
        # state side takes them; 32: both take them, from the idle
        # warpgroup
        C = int(manifest["chunk_size"])
        assert C in (16, 32)
        assert ptx.count("setmaxnreg.dec.sync.aligned") == 1
        assert ptx.count("setmaxnreg.inc.sync.aligned") == C // 16
        # the A matrices on the chunk-local side, tf32 k8 steps over K (over
        # the channels' two halves, m64 n2C, at C = 16: K/16 of them); on
        # the state side K/16 k-steps of [O | X] (n2C), then V' = X Tinv,
        # O += V' Aqk and the state update, a k16 step per 16 tokens each
        K = int(manifest["head_dim_k"])
        ctas = max(int(manifest["cluster_ctas"]), 1)
        scan = manifest["segment_scan"] == "1"
        if scan:
            # the pass is the kernel at V = 2K; the combining kernels come
            # with it, the correction as 16 x 8 mma.sync per warp
            assert f".entry {manifest['compose_kernel']}(" in ptx
            assert f".entry {manifest['correct_kernel']}(" in ptx
            assert ptx.count("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32") == 128
        assert ptx.count(".entry ") == (3 if scan else 1)
        steps = C // 16
        halves = 2 if C == 16 else 1
        tf32_steps = K // 8 // halves
        assert ptx.count("wgmma.mma_async") == tf32_steps + K // 16 + 3 * steps
        assert ptx.count(f"m64n{C * halves}k8.f32.tf32.tf32") == tf32_steps
        # (at K = 64 and C = 32 the state update is n64 too)
        assert ptx.count(f"m64n{2 * C}k16.f32.bf16.bf16") == \
            K // 16 + (steps if K == 2 * C else 0)
        # four tile loads per chunk: each chunk-local warpgroup's first
        # `stages` chunks ahead of its loop (one copy of the code, run by
        # all), and one chunk in it, where each of the A matrices' two paths
        # has its copy (the loads start once the tiles have been read); the
        # lower_bound gate's spread is bounded, so it has one path and no
        # spread check
        stages = int(manifest["stages"])
        bounded = manifest["gate"] == "lower_bound"
        assert ptx.count("cp.async.bulk.tensor") == 4 * (stages + (1 if bounded else 2))
        assert ("bar.red.or" in ptx) == (not bounded)
        # one per TMA stage of each chunk-local warpgroup's ring, and
        # `free` per handoff stage (handoff_depth per such warpgroup, of
        # each CTA of a cluster), and `ready` too in a cluster (without
        # one it is a named barrier: one bar.arrive, the writer's); a
        # cluster is fixed in the
        # kernel, and its CTAs copy each chunk's operands into each other's
        # shared memory: the stage up to its output tiles, one copy each;
        # at C = 16 one more per chunk-local warpgroup (warp 1's rows of
        # Akk, which warp 0 waits for halfway through the inverse)
        depth = int(manifest["handoff_depth"])
        per_stage = 2 if ctas > 1 else 1
        assert ptx.count("mbarrier.init") == \
            local * stages + per_stage * local * ctas * depth + (local if C == 16 else 0)
        assert len(re.findall(r"\bbar\.arrive ", ptx)) == (0 if ctas > 1 else 1)
        assert (f".reqnctapercluster 1, 1, {ctas}" in ptx) == (ctas > 1)
        copies = int(manifest["value_blocks"]) if ctas > 1 else 0
        assert ptx.count("cp.async.bulk.shared::cluster.shared::cta") == copies
    else:  # a rank-one update: 64-float tiles of the state, copied into
        # shared memory and written back in 16-byte pieces
        K, V = int(manifest["head_dim_k"]), int(manifest["head_dim_v"])
        assert int(manifest["threads"]) * 64 == K * V // int(manifest["value_blocks"])
        assert ptx.count("cp.async.cg.shared.global") == 16
        assert ptx.count("st.global.v4.b32") == 16
        assert "wgmma" not in ptx
    source = tmp_path / "kernel.ptx"
    source.write_text(ptx)
    result = subprocess.run([ptxas(), "-arch=sm_90a", str(source), "-o",
                             str(tmp_path / "kernel.cubin")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
