// The width-generic kernels of Wide.h at 16 lanes for AVX-512 (F, BW, VL, DQ): run where the CPU has them.
#define WIDE_LANES 16
#define WIDE_TARGET "avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c"
#define WIDE_NAME(name) ecom_avx512_##name
#include "Wide.h"
