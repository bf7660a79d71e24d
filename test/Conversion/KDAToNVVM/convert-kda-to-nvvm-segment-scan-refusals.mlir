// RUN: not kda-opt %s --split-input-file --convert-kda-to-nvvm="segment-scan=1 value-blocks=2 cluster-ctas=2 stages=1" 2>&1 | FileCheck %s

// The segment scan's combining kernels take f32 states in the vk layout
// at K = V = 128 (convert-kda-to-nvvm-segment-scan.mlir): anything else is
// refused by name.

// CHECK: error: 'kda.forward' op cannot be compiled yet: segment_scan with a kv or bf16 state: the segment scan's combining kernels take f32 states in the vk layout so far
func.func @kv(%q: tensor<1x?x?x128xbf16>, %g: tensor<1x?x?x128xbf16>,
              %beta: tensor<1x?x?xbf16>, %s0: tensor<1x?x128x128xf32>) -> tensor<1x?x?x128xbf16> {
  %o = kda.forward %q, %q, %q, %g, %beta initial_state(%s0) {chunk_size = 16}
      : (tensor<1x?x?x128xbf16>, tensor<1x?x?x128xbf16>, tensor<1x?x?x128xbf16>,
         tensor<1x?x?x128xbf16>, tensor<1x?x?xbf16>, tensor<1x?x128x128xf32>)
      -> tensor<1x?x?x128xbf16>
  return %o : tensor<1x?x?x128xbf16>
}

// -----

// CHECK: error: 'kda.forward' op cannot be compiled yet: segment_scan with K = 64, V = 64: the segment scan runs K = V = 128 so far (its pass kernel takes V = 2K)
func.func @small(%q: tensor<1x?x?x64xbf16>, %g: tensor<1x?x?x64xf32>,
                 %beta: tensor<1x?x?xf32>) -> tensor<1x?x?x64xbf16> {
  %o = kda.forward %q, %q, %q, %g, %beta {chunk_size = 16, state_layout = #kda.state_layout<vk>}
      : (tensor<1x?x?x64xbf16>, tensor<1x?x?x64xbf16>, tensor<1x?x?x64xbf16>,
         tensor<1x?x?x64xf32>, tensor<1x?x?xf32>) -> tensor<1x?x?x64xbf16>
  return %o : tensor<1x?x?x64xbf16>
}
