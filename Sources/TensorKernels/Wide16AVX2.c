// The 16-lane code of WideAVX512.c compiled for AVX2: the same source, so that the AVX-512 path's logic (tails, lane
// folds, masks at 16 lanes) is tested on every AVX2 CPU, not only on the machines with AVX-512 (the `avx2-16lane` path).
#define WIDE_LANES 16
#define WIDE_TARGET "avx2,fma,f16c"
#define WIDE_NAME(name) ecom_avx2x16_##name
#include "Wide.h"
