// The processors this process may run on (its CPU affinity mask), which `taskset`, `docker --cpuset-cpus` and batch
// schedulers narrow below the machine's online count; -1 where the platform has no affinity call.
#define _GNU_SOURCE
#include "EcomTensorKernels.h"

#if defined(__linux__)
#include <sched.h>

int ecom_affinity_cpus(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
    int n = CPU_COUNT(&set);
    return n > 0 ? n : -1;
}
#else
int ecom_affinity_cpus(void) { return -1; }
#endif
