// AVX2/FMA multi-row dot kernels: one row of GGUF blocks against a few input rows at once.
// Each group of 32 weights is widened to floats once and multiplied into every input row (up
// to four per sweep, each with its own accumulator), so a short prompt reads and widens the
// weights once per four rows instead of once per row, and writes no dequantized tile. The
// per-row arithmetic is that of the single-row kernels (rowdot_avx2.c) with one accumulator
// instead of two, so results agree with them to float32 summation order.
#include "CKernels.h"

#if defined(__x86_64__)
#include "avx2_common.h"

// The 32 values of a group as floats in file order: q[0] elements 0..7, ... q[3] 24..31.
AVX2 void q4_values(const uint8_t *qs, __m256 q[4]) {
    const __m256i mask = _mm256_set1_epi32(0xF);
    __m256i a = u8x8(qs), b = u8x8(qs + 8);
    q[0] = fl(_mm256_and_si256(a, mask));
    q[1] = fl(_mm256_and_si256(b, mask));
    q[2] = fl(_mm256_srli_epi32(a, 4));
    q[3] = fl(_mm256_srli_epi32(b, 4));
}

AVX2 void q8_values(const uint8_t *qs, __m256 q[4]) {
    q[0] = fl(i8x8(qs));
    q[1] = fl(i8x8(qs + 8));
    q[2] = fl(i8x8(qs + 16));
    q[3] = fl(i8x8(qs + 24));
}

// sum of q_i * x_i over one group, in the single-row kernels' order.
AVX2 __m256 group_dot(const __m256 q[4], const float *x) {
    __m256 s = _mm256_mul_ps(q[0], _mm256_loadu_ps(x));
    __m256 t = _mm256_mul_ps(q[2], _mm256_loadu_ps(x + 16));
    s = _mm256_fmadd_ps(q[1], _mm256_loadu_ps(x + 8), s);
    t = _mm256_fmadd_ps(q[3], _mm256_loadu_ps(x + 24), t);
    return _mm256_add_ps(s, t);
}

// R (1..4, a constant at each call) input rows against one Q4_1 row.
AVX2 void q4_1_rows(const uint8_t *row, const float *x, intptr_t xstride, const float *sums, intptr_t sstride,
                    intptr_t groups, float *out, intptr_t ostride, const int R) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    __m128 mins[4] = {_mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps()};
    for (intptr_t g = 0; g < groups; g++) {
        const uint8_t *p = row + 20 * g;
        const __m128 dm = halves2_at(p, 0);
        const __m256 d = _mm256_broadcastss_ps(dm);
        const __m128 m = _mm_movehdup_ps(dm);
        __m256 q[4];
        q4_values(p + 4, q);
        for (int r = 0; r < R; r++) {
            acc[r] = _mm256_fmadd_ps(d, group_dot(q, x + r * xstride + 32 * g), acc[r]);
            mins[r] = _mm_fmadd_ss(m, _mm_load_ss(sums + r * sstride + g), mins[r]);
        }
    }
    for (int r = 0; r < R; r++) out[r * ostride] = hsum(acc[r]) + _mm_cvtss_f32(mins[r]);
}

// R (1..4) input rows against one Q8_0 row.
AVX2 void q8_0_rows(const uint8_t *row, const float *x, intptr_t xstride, intptr_t groups, float *out, intptr_t ostride,
                    const int R) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (intptr_t g = 0; g < groups; g++) {
        const uint8_t *p = row + 34 * g;
        const __m256 d = _mm256_set1_ps(half_at(p, 0));
        __m256 q[4];
        q8_values(p + 2, q);
        for (int r = 0; r < R; r++) acc[r] = _mm256_fmadd_ps(d, group_dot(q, x + r * xstride + 32 * g), acc[r]);
    }
    for (int r = 0; r < R; r++) out[r * ostride] = hsum(acc[r]);
}

AVX2_KERNEL void loupe_avx2_dots_q4_1(const void *row, const float *x, intptr_t xstride, const float *sums, intptr_t sstride,
                                      intptr_t rows, intptr_t groups, float *out, intptr_t ostride) {
    intptr_t i = 0;
    for (; i + 4 <= rows; i += 4) q4_1_rows(row, x + i * xstride, xstride, sums + i * sstride, sstride, groups, out + i * ostride, ostride, 4);
    const float *xr = x + i * xstride, *sr = sums + i * sstride;
    float *o = out + i * ostride;
    switch (rows - i) {
    case 3: q4_1_rows(row, xr, xstride, sr, sstride, groups, o, ostride, 3); break;
    case 2: q4_1_rows(row, xr, xstride, sr, sstride, groups, o, ostride, 2); break;
    case 1: q4_1_rows(row, xr, xstride, sr, sstride, groups, o, ostride, 1); break;
    default: break;
    }
}

AVX2_KERNEL void loupe_avx2_dots_q8_0(const void *row, const float *x, intptr_t xstride, const float *sums, intptr_t sstride,
                                      intptr_t rows, intptr_t groups, float *out, intptr_t ostride) {
    (void)sums; (void)sstride;
    intptr_t i = 0;
    for (; i + 4 <= rows; i += 4) q8_0_rows(row, x + i * xstride, xstride, groups, out + i * ostride, ostride, 4);
    const float *xr = x + i * xstride;
    float *o = out + i * ostride;
    switch (rows - i) {
    case 3: q8_0_rows(row, xr, xstride, groups, o, ostride, 3); break;
    case 2: q8_0_rows(row, xr, xstride, groups, o, ostride, 2); break;
    case 1: q8_0_rows(row, xr, xstride, groups, o, ostride, 1); break;
    default: break;
    }
}

#else
#include <stdlib.h>
#define STUB(name) void name(const void *r, const float *x, intptr_t xs, const float *s, intptr_t ss, intptr_t n, intptr_t g, \
                             float *o, intptr_t os) { (void)r; (void)x; (void)xs; (void)s; (void)ss; (void)n; (void)g; (void)o; (void)os; abort(); }
STUB(loupe_avx2_dots_q4_1) STUB(loupe_avx2_dots_q8_0)
#endif
