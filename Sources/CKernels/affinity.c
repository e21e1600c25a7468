// The CPU affinity mask's size, for Linalg's ProcessorInfo (glibc declares sched_getaffinity
// and CPU_COUNT only under _GNU_SOURCE, which Swift's Glibc module does not define).
#define _GNU_SOURCE
#include "CKernels.h"

#if defined(__linux__)
#include <sched.h>

int loupe_cpu_affinity_count(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    return CPU_COUNT(&set);
}
#else
int loupe_cpu_affinity_count(void) { return 0; }
#endif
