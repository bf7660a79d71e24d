//===- Passes.td - kda conversion passes -------------------*- tablegen -*-===//

#ifndef KDA_CONVERSION_PASSES_TD
#define KDA_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertKDAToNVVM : Pass<"convert-kda-to-nvvm", "::mlir::ModuleOp"> {
  let summary = "Compile each kda.forward into a kernel in its own gpu.module";
  let description = [{
    For every `kda.forward`, emits a `gpu.module` named after the kernel's
    configuration holding the forward kernel: an `llvm.func` in the llvm,
    nvvm, arith and scf dialects that stages q, k, v and g by TMA on an
    mbarrier and computes every matrix product of the chunked form with
    `wgmma` (lib/Conversion/KDAToNVVM/ForwardKernel.cpp has the schedule).
    The gpu.module carries a `kda.manifest` dictionary with everything the
    runtime needs to launch it (kernel name, threads, shared-memory bytes,
    the configuration); kda-compile writes it into the kernel bundle.

    The functions that held kda.forward ops are erased: kda's C runtime is
    the host side. A configuration the kernel does not support yet is an
    error on the op that names what is missing.

    Before (abridged):
    ```mlir
    func.func @f(...) { %o, %s = kda.forward %q, %k, %v, %g, %beta ... }
    ```
    After:
    ```mlir
    module attributes {gpu.container_module} {
      gpu.module @kda_forward_k128_v128_c16_... attributes {kda.manifest = {...}} {
        llvm.mlir.global external @kda_shared() ... : !llvm.array<0 x i8>
        llvm.func @kda_forward_k128_v128_c16_...(...) attributes {nvvm.kernel, ...}
      }
    }
    ```
  }];
  let options = [
    Option<"chunkSize", "chunk-size", "int64_t", /*default=*/"0",
           "Tokens per chunk of the kernel's schedule, 16 or 32 (32 with one "
           "chunk-local warpgroup at K = 128, as shared memory allows); 0 "
           "takes each op's chunk_size attribute">,
    Option<"stages", "stages", "int64_t",
           /*default=*/"::mlir::kda::kDefaultForwardStages",
           "Buffers in each TMA ring of input tiles of the forward kernel "
           "(one ring per chunk-local warpgroup; 1 to 4, as shared memory "
           "allows): a warpgroup's next stages - 1 chunks load while it "
           "computes one">,
    Option<"valueBlocks", "value-blocks", "int64_t", /*default=*/"1",
           "CTAs per (sequence, value head) of the forward kernel, each owning "
           "V / value-blocks rows of the state (blocks of a multiple of 64 "
           "rows) and repeating the chunk-local work: the grid's z">,
    Option<"chunkLocalWarpgroups", "chunk-local-warpgroups", "int64_t",
           /*default=*/"2",
           "Warpgroups of the forward kernel's 4 on the chunk-local side, "
           "each with its own chunk in flight: 2, 1 (32-token chunks at "
           "K = 128, whose workspace takes twice the shared memory), or 3 "
           "where the state side needs one warpgroup (64 value rows per CTA) "
           "and shared memory allows">,
    Option<"clusterCtas", "cluster-ctas", "int64_t", /*default=*/"0",
           "0, or the CTAs per (sequence, value head) of the forward kernel "
           "that run as one thread-block cluster (2 to 8, at least "
           "value-blocks): the value-blocks CTAs holding the state and "
           "helpers, each computing every cluster-ctas-th chunk for every "
           "value row and copying it into the state CTAs' shared memory">,
    Option<"handoffDepth", "handoff-depth", "int64_t", /*default=*/"1",
           "Handoff stages per chunk-local warpgroup of the forward kernel (1 "
           "or 2, as shared memory allows): with 2 a warpgroup writes its next "
           "chunk's operands before the state side has read its last">,
    Option<"segmentScan", "segment-scan", "int64_t", /*default=*/"0",
           "1: compile each kda.forward as a segment scan for one long "
           "sequence (B = 1): the sequence cut into segments, each run by "
           "the kernel at V = 2K whose extra rows carry the segment's "
           "transition (value rows in one CTA of a cluster of two, "
           "transition rows in the other), a kernel composing the "
           "segments' entering states and one adding each segment's "
           "entering state to its outputs; 0: the chain alone">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::LLVM::LLVMDialect",
                           "::mlir::NVVM::NVVMDialect", "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

#endif // KDA_CONVERSION_PASSES_TD
