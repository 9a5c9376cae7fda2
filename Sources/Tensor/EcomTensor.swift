// EcomTensor: Float32 tensor core with scalar, SIMD and BLAS paths (issue 5).
// This file holds the module's overview; each part of the library lives in a file of its own.
//
// Layers:
// - Kernels on raw buffers (`UnsafePointer<Float>` / `UnsafeMutablePointer<Float>` with explicit sizes), grouped in
//   one caseless enum per operation (`LayerNormKernel`, `GELUKernel`, `SoftmaxKernel`, ...). Each has a plain scalar
//   `reference` and a fast path; the model (issues 6 and 8) calls them on preallocated buffers, in place, without copies.
// - `Tensor`: a value type (shape + contiguous Float32 storage) with a convenient API on top of the kernels.
// - `MatrixView` / `MutableMatrixView`: strided 2-D views (rows, columns, leading dimension) for the rows and
//   attention heads of larger buffers (e.g. q, k and v of one head inside a fused QKV projection).
// - `ComputeThreads`: the one knob for the number of threads (Dispatch for our kernels, OpenBLAS for gemm).
//
// Shape legend used in comments: B batch, T time (sequence), C channels (hidden size), NH heads, HS head size,
// V vocabulary, N rows (B*T).
