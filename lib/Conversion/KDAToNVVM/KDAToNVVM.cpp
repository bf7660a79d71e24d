//===- KDAToNVVM.cpp - convert-kda-to-nvvm ----------------------*- C++ -*-===//
//
// Reads each kda.forward's and kda.decode's configuration off its types and
// attributes, checks the kernel supports it, and emits the kernel
// (ForwardKernel.cpp, DecodeKernel.cpp) into a gpu.module with the launch
// manifest the runtime reads.
//
//===----------------------------------------------------------------------===//

#include "kda/Conversion/KDAToNVVM/DecodeKernel.h"
#include "kda/Conversion/KDAToNVVM/ForwardKernel.h"
#include "kda/Conversion/KDAToNVVM/SegmentKernels.h"
#include "kda/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::kda {
#define GEN_PASS_DEF_CONVERTKDATONVVM
#include "kda/Conversion/Passes.h.inc"
} // namespace mlir::kda

using namespace mlir;
using namespace mlir::kda;

static std::string typeName(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  t.print(os);
  return s;
}

/// Reads the choices kda.forward and kda.decode share off `op` (q and v
/// carry the head sizes on their last axis), or emits a diagnostic on it.
template <typename OpT>
static LogicalResult readChoices(OpT op, StringRef kernel, KernelChoices &c) {
  auto q = cast<RankedTensorType>(op.getQ().getType());
  auto v = cast<RankedTensorType>(op.getV().getType());
  c.headDimK = q.getDimSize(q.getRank() - 1);
  c.headDimV = v.getDimSize(v.getRank() - 1);
  if (ShapedType::isDynamic(c.headDimK) || ShapedType::isDynamic(c.headDimV))
    return op.emitOpError("head sizes K and V must be static to compile a kernel");
  if (!q.getElementType().isBF16())
    return op.emitOpError() << "operand 'q' has element type " << q.getElementType()
                            << ": the " << kernel << " kernel takes bf16 q, k, v so far";
  c.gate = op.getGate();
  c.betaMode = op.getBetaMode();
  c.qkL2Norm = op.getQkL2norm();
  c.stateLayout = op.getStateLayout();
  c.gType = cast<RankedTensorType>(op.getG().getType()).getElementType();
  c.betaType = cast<RankedTensorType>(op.getBeta().getType()).getElementType();
  return success();
}

/// The kernel configuration of `op` under the pass's `schedule` (chunk size
/// 0: the op's), or a diagnostic on it.
static FailureOr<ForwardKernelConfig> configOf(ForwardOp op,
                                               const ForwardKernelConfig &schedule) {
  ForwardKernelConfig c = schedule;
  if (failed(readChoices(op, "forward", c)))
    return failure();
  if (!c.chunkSize)
    c.chunkSize = op.getChunkSize();
  Builder b(op.getContext());
  c.initialStateType = op.getInitialState()
                           ? cast<RankedTensorType>(op.getInitialState().getType()).getElementType()
                           : b.getF32Type();
  c.finalStateType = op.getFinalState()
                         ? cast<RankedTensorType>(op.getFinalState().getType()).getElementType()
                         : b.getF32Type();
  std::string unsupported = checkForwardSupport(c);
  if (!unsupported.empty())
    return op.emitOpError() << "cannot be compiled yet: " << unsupported;
  return c;
}

/// The decode kernel's configuration of `op`, or a diagnostic on it.
static FailureOr<DecodeKernelConfig> configOf(DecodeOp op) {
  DecodeKernelConfig c;
  if (failed(readChoices(op, "decode", c)))
    return failure();
  c.poolType = cast<RankedTensorType>(op.getStatePool().getType()).getElementType();
  std::string unsupported = checkDecodeSupport(c);
  if (!unsupported.empty())
    return op.emitOpError() << "cannot be compiled yet: " << unsupported;
  return c;
}

/// The manifest entries of the shared choices, which the runtime checks a
/// call against (kda_bundle_expect_choices).
static void appendChoiceFields(Builder &b, const KernelChoices &c,
                               SmallVectorImpl<NamedAttribute> &fields) {
  fields.append({
      b.getNamedAttr("head_dim_k", b.getI64IntegerAttr(c.headDimK)),
      b.getNamedAttr("head_dim_v", b.getI64IntegerAttr(c.headDimV)),
      b.getNamedAttr("gate", b.getStringAttr(stringifyGateMode(c.gate))),
      b.getNamedAttr("beta_mode", b.getStringAttr(stringifyBetaMode(c.betaMode))),
      b.getNamedAttr("qk_l2norm", b.getI64IntegerAttr(c.qkL2Norm)),
      b.getNamedAttr("state_layout", b.getStringAttr(stringifyStateLayout(c.stateLayout))),
      b.getNamedAttr("qkv_dtype", b.getStringAttr("bf16")),
      b.getNamedAttr("g_dtype", b.getStringAttr(typeName(c.gType))),
      b.getNamedAttr("beta_dtype", b.getStringAttr(typeName(c.betaType))),
  });
}

static DictionaryAttr decodeManifestOf(Builder &b, const DecodeKernelConfig &c) {
  SmallVector<NamedAttribute> fields = {
      b.getNamedAttr("op", b.getStringAttr("decode")),
      b.getNamedAttr("kernel", b.getStringAttr(c.kernelName())),
      b.getNamedAttr("threads", b.getI64IntegerAttr(decodeThreads(c))),
      b.getNamedAttr("shared_bytes", b.getI64IntegerAttr(decodeSharedBytes(c))),
      b.getNamedAttr("pool_dtype", b.getStringAttr(typeName(c.poolType))),
      b.getNamedAttr("grid", b.getStringAttr(kDecodeGrid)),
      b.getNamedAttr("value_blocks", b.getI64IntegerAttr(decodeValueBlocks(c))),
      b.getNamedAttr("params", b.getStringAttr(decodeParamNames())),
  };
  appendChoiceFields(b, c, fields);
  return b.getDictionaryAttr(fields);
}

/// Everything the runtime needs to launch the kernel (kda-compile writes it
/// into the bundle).
static DictionaryAttr manifestOf(Builder &b, const ForwardKernelConfig &c) {
  SmallVector<NamedAttribute> fields = {
      b.getNamedAttr("op", b.getStringAttr("forward")),
      b.getNamedAttr("kernel", b.getStringAttr(c.kernelName())),
      b.getNamedAttr("threads", b.getI64IntegerAttr(kForwardThreads)),
      b.getNamedAttr("shared_bytes", b.getI64IntegerAttr(forwardSharedBytes(c))),
      b.getNamedAttr("chunk_size", b.getI64IntegerAttr(c.chunkSize)),
      b.getNamedAttr("stages", b.getI64IntegerAttr(c.stages)),
      b.getNamedAttr("value_blocks", b.getI64IntegerAttr(c.valueBlocks)),
      b.getNamedAttr("chunk_local_warpgroups", b.getI64IntegerAttr(c.chunkLocalWarpgroups)),
      b.getNamedAttr("cluster_ctas", b.getI64IntegerAttr(c.clusterCtas)),
      b.getNamedAttr("head_ctas", b.getI64IntegerAttr(forwardHeadCtas(c))),
      b.getNamedAttr("handoff_depth", b.getI64IntegerAttr(c.handoffDepth)),
      b.getNamedAttr("initial_state_dtype", b.getStringAttr(typeName(c.initialStateType))),
      b.getNamedAttr("final_state_dtype", b.getStringAttr(typeName(c.finalStateType))),
      b.getNamedAttr("grid", b.getStringAttr(kForwardGrid)),
      b.getNamedAttr("params", b.getStringAttr(forwardParamNames())),
      b.getNamedAttr("tensor_maps", b.getStringAttr(kForwardTensorMaps)),
      b.getNamedAttr("tensor_map_box_rows", b.getI64IntegerAttr(c.chunkSize)),
      b.getNamedAttr("tensor_map_swizzle", b.getI64IntegerAttr(0)),
      b.getNamedAttr("segment_scan", b.getI64IntegerAttr(c.segmentScan)),
  };
  if (c.segmentScan)
    fields.append({
        b.getNamedAttr("segment_tokens", b.getI64IntegerAttr(kSegmentTokenTile)),
        b.getNamedAttr("compose_kernel", b.getStringAttr(segmentComposeKernelName(c))),
        b.getNamedAttr("compose_params", b.getStringAttr(segmentComposeParamNames())),
        b.getNamedAttr("compose_threads", b.getI64IntegerAttr(kComposeThreads)),
        b.getNamedAttr("compose_rows", b.getI64IntegerAttr(kComposeRows)),
        b.getNamedAttr("compose_shared_bytes",
                       b.getI64IntegerAttr(segmentComposeSharedBytes(c))),
        b.getNamedAttr("correct_kernel", b.getStringAttr(segmentCorrectKernelName(c))),
        b.getNamedAttr("correct_params", b.getStringAttr(segmentCorrectParamNames())),
        b.getNamedAttr("correct_threads", b.getI64IntegerAttr(kCorrectThreads)),
        b.getNamedAttr("correct_shared_bytes",
                       b.getI64IntegerAttr(segmentCorrectSharedBytes(c))),
    });
  appendChoiceFields(b, c, fields);
  return b.getDictionaryAttr(fields);
}

namespace {
struct ConvertKDAToNVVMPass
    : public kda::impl::ConvertKDAToNVVMBase<ConvertKDAToNVVMPass> {
  using ConvertKDAToNVVMBase::ConvertKDAToNVVMBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder builder(module.getContext());
    SymbolTable symbols(module);
    SmallVector<Operation *> hosts;
    bool failedAny = false;

    // One gpu.module per distinct kernel name, however many ops share it;
    // the functions holding the ops are host code and go once lowered.
    auto lower = [&](Operation *op, auto config, auto manifest,
                     auto buildKernel) {
      if (failed(config)) {
        failedAny = true;
        return;
      }
      std::string name = config->kernelName();
      if (!symbols.lookup(name)) {
        builder.setInsertionPointToEnd(module.getBody());
        auto gpuModule = gpu::GPUModuleOp::create(builder, op->getLoc(), name);
        gpuModule->setAttr("kda.manifest", manifest(builder, *config));
        builder.setInsertionPointToStart(gpuModule.getBody());
        buildKernel(builder, op->getLoc(), *config);
        symbols.insert(gpuModule);
      }
      if (Operation *host = op->getParentOfType<FunctionOpInterface>())
        if (!llvm::is_contained(hosts, host))
          hosts.push_back(host);
    };
    ForwardKernelConfig schedule;
    schedule.chunkSize = chunkSize;
    schedule.stages = stages;
    schedule.valueBlocks = valueBlocks;
    schedule.chunkLocalWarpgroups = chunkLocalWarpgroups;
    schedule.clusterCtas = clusterCtas;
    schedule.handoffDepth = handoffDepth;
    schedule.segmentScan = segmentScan;
    // The segment scan's bundle holds its combining kernels beside the pass.
    auto buildForward = [](OpBuilder &builder, Location loc, const ForwardKernelConfig &c) {
      buildForwardKernel(builder, loc, c);
      if (c.segmentScan) {
        buildSegmentComposeKernel(builder, loc, c);
        buildSegmentCorrectKernel(builder, loc, c);
      }
    };
    module.walk([&](ForwardOp op) {
      lower(op, configOf(op, schedule), manifestOf, buildForward);
    });
    module.walk([&](DecodeOp op) {
      lower(op, configOf(op), decodeManifestOf, buildDecodeKernel);
    });
    if (failedAny)
      return signalPassFailure();
    for (Operation *host : hosts)
      host->erase();
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(module.getContext()));
  }
};
} // namespace
