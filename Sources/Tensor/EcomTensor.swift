// EcomTensor: Float32 tensor core with scalar, SIMD and BLAS paths (issue 5).
// This file holds the module's overview; each part of the library lives in a file of its own.
