// RUN: kda-opt %s -split-input-file --convert-kda-to-nvvm -verify-diagnostics

// Configurations the forward kernel does not compile yet are errors on the
// op that name what is missing, one case per message.

// K = 64 with V = 128 (the kernel takes K = V = 64 or 128, and K = 128
// with V = 256).
func.func @head_sizes_differ(%q: tensor<1x64x2x64xbf16>, %v: tensor<1x64x2x128xbf16>,
                             %g: tensor<1x64x2x64xf32>, %beta: tensor<1x64x2xf32>) -> tensor<1x64x2x128xbf16> {
  // expected-error @below {{'kda.forward' op cannot be compiled yet: head sizes K = 64, V = 128: the forward kernel supports K = V = 64 or 128, and K = 128 with V = 256, so far}}
  %o = kda.forward %q, %q, %v, %g, %beta {chunk_size = 16}
      : (tensor<1x64x2x64xbf16>, tensor<1x64x2x64xbf16>, tensor<1x64x2x128xbf16>,
         tensor<1x64x2x64xf32>, tensor<1x64x2xf32>) -> tensor<1x64x2x128xbf16>
  return %o : tensor<1x64x2x128xbf16>
}

// -----

// Head size 256 (allowed by the dialect, not by the kernel yet).
func.func @head_size_256(%q: tensor<1x64x2x256xbf16>, %g: tensor<1x64x2x256xf32>,
                         %beta: tensor<1x64x2xf32>) -> tensor<1x64x2x256xbf16> {
  // expected-error @below {{'kda.forward' op cannot be compiled yet: head sizes K = 256, V = 256: the forward kernel supports K = V = 64 or 128, and K = 128 with V = 256, so far}}
  %o = kda.forward %q, %q, %q, %g, %beta {chunk_size = 16}
      : (tensor<1x64x2x256xbf16>, tensor<1x64x2x256xbf16>, tensor<1x64x2x256xbf16>,
         tensor<1x64x2x256xf32>, tensor<1x64x2xf32>) -> tensor<1x64x2x256xbf16>
  return %o : tensor<1x64x2x256xbf16>
}

// -----

// The default 64-token chunk (the schedule takes 16 or 32).
func.func @chunk_64(%q: tensor<1x64x2x128xbf16>, %g: tensor<1x64x2x128xf32>,
                    %beta: tensor<1x64x2xf32>) -> tensor<1x64x2x128xbf16> {
  // expected-error @below {{'kda.forward' op cannot be compiled yet: chunk_size = 64: the forward kernel takes 16- or 32-token chunks}}
  %o = kda.forward %q, %q, %q, %g, %beta
      : (tensor<1x64x2x128xbf16>, tensor<1x64x2x128xbf16>, tensor<1x64x2x128xbf16>,
         tensor<1x64x2x128xf32>, tensor<1x64x2xf32>) -> tensor<1x64x2x128xbf16>
  return %o : tensor<1x64x2x128xbf16>
}

// -----

// f16 activations (the kernel loads bf16 tiles).
func.func @f16_inputs(%q: tensor<1x64x2x128xf16>, %g: tensor<1x64x2x128xf32>,
                      %beta: tensor<1x64x2xf32>) -> tensor<1x64x2x128xf16> {
  // expected-error @below {{'kda.forward' op operand 'q' has element type 'f16': the forward kernel takes bf16 q, k, v so far}}
  %o = kda.forward %q, %q, %q, %g, %beta {chunk_size = 16}
      : (tensor<1x64x2x128xf16>, tensor<1x64x2x128xf16>, tensor<1x64x2x128xf16>,
         tensor<1x64x2x128xf32>, tensor<1x64x2xf32>) -> tensor<1x64x2x128xf16>
  return %o : tensor<1x64x2x128xf16>
}

// -----

// Dynamic head sizes (the kernel is specialised on K and V).
func.func @dynamic_head_size(%q: tensor<1x64x2x?xbf16>, %v: tensor<1x64x2x?xbf16>,
                             %g: tensor<1x64x2x?xf32>, %beta: tensor<1x64x2xf32>) -> tensor<1x64x2x?xbf16> {
  // expected-error @below {{'kda.forward' op head sizes K and V must be static to compile a kernel}}
  %o = kda.forward %q, %q, %v, %g, %beta {chunk_size = 16}
      : (tensor<1x64x2x?xbf16>, tensor<1x64x2x?xbf16>, tensor<1x64x2x?xbf16>,
         tensor<1x64x2x?xf32>, tensor<1x64x2xf32>) -> tensor<1x64x2x?xbf16>
  return %o : tensor<1x64x2x?xbf16>
}

// -----

// kda.decode with f16 activations (the decode kernel loads bf16).
func.func @decode_f16(%q: tensor<8x4x128xf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xf32>,
                      %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> tensor<8x4x128xf16> {
  // expected-error @below {{'kda.decode' op operand 'q' has element type 'f16': the decode kernel takes bf16 q, k, v so far}}
  %o, %pool1 = kda.decode %q, %q, %q, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xf16>, tensor<8x4x128xf16>, tensor<8x4x128xf16>,
         tensor<8x4x128xf32>, tensor<8x4xf32>, tensor<16x4x128x128xf32>, tensor<8xi32>)
      -> (tensor<8x4x128xf16>, tensor<16x4x128x128xf32>)
  return %o : tensor<8x4x128xf16>
}
