// The width-generic kernels of Wide.h at 8 lanes for AVX2. The AVX2 table (Tables.c) takes RMSNorm, SwiGLU and the
// cross-entropy row from here; its other entries are the hand-written kernels of the other files.
#define WIDE_LANES 8
#define WIDE_TARGET "avx2,fma,f16c"
#define WIDE_NAME(name) ecom_avx2x8_##name
#include "Wide.h"
