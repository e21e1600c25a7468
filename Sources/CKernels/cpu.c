// Run-time CPU checks for the AVX2 and AVX-512 kernels.
#include "CKernels.h"

#if defined(__x86_64__)
#include <cpuid.h>

// AVX2 (CPUID.7.0:EBX[5]), FMA (CPUID.1:ECX[12]) and F16C (ECX[29]), and the OS saving
// the YMM registers (OSXSAVE, ECX[27], and XCR0 bits 1-2). The same test as
// __builtin_cpu_supports("avx2") and ("fma") plus F16C, without a runtime-library symbol.
int loupe_cpu_has_avx2(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned fma = 1u << 12, osxsave = 1u << 27, avx = 1u << 28, f16c = 1u << 29;
    if ((c & (fma | osxsave | avx | f16c)) != (fma | osxsave | avx | f16c)) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6) != 6) return 0;
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & (1u << 5)) != 0;
}

// AVX-512F (CPUID.7.0:EBX[16]) with the OS saving the opmask and ZMM registers as well as
// the YMM ones (OSXSAVE, and XCR0 bits 1-2 and 5-7).
int loupe_cpu_has_avx512(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xE6) != 0xE6) return 0;
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & (1u << 16)) != 0;
}
#else
int loupe_cpu_has_avx2(void) { return 0; }
int loupe_cpu_has_avx512(void) { return 0; }
#endif
