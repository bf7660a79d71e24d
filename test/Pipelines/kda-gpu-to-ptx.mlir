// RUN: kda-opt %s --kda-gpu-to-ptx | FileCheck %s
// RUN: kda-opt %s --kda-gpu-to-ptx="ptx-version=85 opt-level=1" | FileCheck %s --check-prefix=OPTIONS
// RUN: not kda-opt %s --kda-gpu-to-ptx=ptx-version=78 2>&1 | FileCheck %s --check-prefix=OLD-PTX
// RUN: not kda-opt %s --kda-gpu-to-ptx=chip=sm_90 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not kda-opt %s --kda-gpu-to-ptx=opt-level=4 2>&1 | FileCheck %s --check-prefix=OPT
// RUN: not kda-compile %s -o %t.ptx --ptx-version=91 2>&1 | FileCheck %s --check-prefix=COMPILE
// RUN: not kda-compile %S/Inputs/two-modules.mlir --emit=ptx -o %t.ptx 2>&1 | FileCheck %s --check-prefix=TWO

// The kda-gpu-to-ptx pipeline on a minimal kernel: every gpu.module becomes
// a gpu.binary of PTX for sm_90a, with the PTX version and optimisation
// level taken from the options; options outside what LLVM 22 and CUDA 13
// accept are refused with a message naming them.

// CHECK: gpu.binary @minimal  [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">
// CHECK-SAME: assembly = "
// CHECK-SAME: .version 8.0\0A.target sm_90a
// CHECK-SAME: .entry store_thread_index

// OPTIONS: #nvvm.target<O = 1, chip = "sm_90a", features = "+ptx85">
// OPTIONS-SAME: .version 8.5\0A.target sm_90a

// OLD-PTX: kda-gpu-to-ptx: option 'ptx-version' must be in [80, 90], got 78
// CHIP: kda-gpu-to-ptx: option 'chip' must be sm_90a (wgmma and setmaxnreg need it), got 'sm_90'
// OPT: kda-gpu-to-ptx: option 'opt-level' must be 0..3, got 4
// COMPILE: kda-compile: option 'ptx-version' must be in [80, 90], got 91
// TWO: kda-compile: expected exactly one gpu.module in '{{.*}}two-modules.mlir', got 2

module attributes {gpu.container_module} {
  gpu.module @minimal {
    gpu.func @store_thread_index(%out: memref<128xi32>) kernel {
      %tid = gpu.thread_id x
      %value = arith.index_cast %tid : index to i32
      memref.store %value, %out[%tid] : memref<128xi32>
      gpu.return
    }
  }
}
