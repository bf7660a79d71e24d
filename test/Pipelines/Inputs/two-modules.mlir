// Input of kda-gpu-to-ptx.mlir: kda-compile writes one PTX file, so two
// gpu.modules are refused.
module attributes {gpu.container_module} {
  gpu.module @first {
    gpu.func @k() kernel { gpu.return }
  }
  gpu.module @second {
    gpu.func @k() kernel { gpu.return }
  }
}
