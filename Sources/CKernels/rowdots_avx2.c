// AVX2/FMA multi-row dot kernels: one row of GGUF blocks against a few input rows at once.
// Each group of 32 weights is widened to floats once and multiplied into every input row (up
// to four per sweep, each with its own accumulator), so a short prompt reads and widens the
// weights once per four rows instead of once per row, and writes no dequantized tile. Each
// weight is scaled as the dequantizer scales it (d * q, Q4_1's m added through the input
// sums), so results agree with the single-row kernels and with tiles to float32 rounding.
#include "CKernels.h"
#include <math.h>

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

// acc0/acc1 += (q * d) . x over one group for one input row: two chains per row, so four rows
// keep eight FMAs in flight.
AVX2 void group_fma(const __m256 qd[4], const float *x, __m256 *acc0, __m256 *acc1) {
    *acc0 = _mm256_fmadd_ps(qd[0], _mm256_loadu_ps(x), *acc0);
    *acc1 = _mm256_fmadd_ps(qd[1], _mm256_loadu_ps(x + 8), *acc1);
    *acc0 = _mm256_fmadd_ps(qd[2], _mm256_loadu_ps(x + 16), *acc0);
    *acc1 = _mm256_fmadd_ps(qd[3], _mm256_loadu_ps(x + 24), *acc1);
}

// Group 2i (low nibbles) or 2i+1 (high) of a Q4_K block's pair i, whose 32 bytes are at qs:
// element l of the group is byte l's low or high nibble.
AVX2 void q4k_values(const uint8_t *qs, int high, __m256 q[4]) {
    const __m256i mask = _mm256_set1_epi32(0xF);
    for (int j = 0; j < 4; j++) {
        __m256i v = u8x8(qs + 8 * j);
        q[j] = fl(high ? _mm256_srli_epi32(v, 4) : _mm256_and_si256(v, mask));
    }
}

// R (1..4) input rows against one row of `type` blocks (R and type constants at each call, so
// each combination compiles to its own loop): each group's values are widened and scaled
// once (by d; Q4_K by d times the group's 6-bit scale: the dequantized weights, as a tile
// holds them) and multiplied into every row; the minimums (Q4_1's m, Q4_K's dmin times the
// group's 6-bit min, times the group's input sum) are added in a second sweep.
enum rows_type { ROWS_Q4_1, ROWS_Q8_0, ROWS_Q4_K };
AVX2 void dots_rows(const uint8_t *row, const float *x, intptr_t xstride, const float *sums, intptr_t sstride,
                    intptr_t groups, float *out, intptr_t ostride, const int R, const enum rows_type type) {
    const intptr_t block = type == ROWS_Q4_1 ? 20 : 34;
    __m256 a0[4], a1[4];
    for (int r = 0; r < 4; r++) { a0[r] = _mm256_setzero_ps(); a1[r] = _mm256_setzero_ps(); }
    for (intptr_t g = 0; g < groups; g++) {
        __m256 q[4], d;
        if (type == ROWS_Q4_K) {
            // 144-byte blocks of 8 groups: f16 d, f16 dmin, scales[12], qs[128] (pairs of groups).
            const uint8_t *p = row + 144 * (g >> 3);
            const int j = (int)(g & 7);
            float sc, mn;
            scale_min(p + 4, j, &sc, &mn);
            d = _mm256_set1_ps(half_at(p, 0) * sc);
            q4k_values(p + 16 + 32 * (j >> 1), j & 1, q);
        } else {
            const uint8_t *p = row + block * g;
            d = _mm256_set1_ps(half_at(p, 0));
            if (type == ROWS_Q4_1) q4_values(p + 4, q); else q8_values(p + 2, q);
        }
        for (int i = 0; i < 4; i++) q[i] = _mm256_mul_ps(q[i], d);
        for (int r = 0; r < R; r++) group_fma(q, x + r * xstride + 32 * g, &a0[r], &a1[r]);
    }
    float mins[4] = {0, 0, 0, 0};
    if (type == ROWS_Q4_1) {
        for (intptr_t g = 0; g < groups; g++) {
            const float m = half_at(row + block * g, 2);
            for (int r = 0; r < R; r++) mins[r] = fmaf(m, sums[r * sstride + g], mins[r]);
        }
    } else if (type == ROWS_Q4_K) {
        for (intptr_t g = 0; g < groups; g++) {
            const uint8_t *p = row + 144 * (g >> 3);
            float sc, mn;
            scale_min(p + 4, (int)(g & 7), &sc, &mn);
            const float m = -(half_at(p, 2) * mn);
            for (int r = 0; r < R; r++) mins[r] = fmaf(m, sums[r * sstride + g], mins[r]);
        }
    }
    for (int r = 0; r < R; r++) out[r * ostride] = hsum(_mm256_add_ps(a0[r], a1[r])) + mins[r];
}

// All `rows` input rows, four at a time, then the remainder.
AVX2 void dots(const uint8_t *row, const float *x, intptr_t xstride, const float *sums, intptr_t sstride,
               intptr_t rows, intptr_t groups, float *out, intptr_t ostride, const enum rows_type type) {
    intptr_t i = 0;
    for (; i + 4 <= rows; i += 4)
        dots_rows(row, x + i * xstride, xstride, sums + i * sstride, sstride, groups, out + i * ostride, ostride, 4, type);
    const float *xr = x + i * xstride, *sr = sums + i * sstride;
    float *o = out + i * ostride;
    switch (rows - i) {
    case 3: dots_rows(row, xr, xstride, sr, sstride, groups, o, ostride, 3, type); break;
    case 2: dots_rows(row, xr, xstride, sr, sstride, groups, o, ostride, 2, type); break;
    case 1: dots_rows(row, xr, xstride, sr, sstride, groups, o, ostride, 1, type); break;
    default: break;
    }
}

AVX2_KERNEL void loupe_avx2_dots_q4_1(const void *row, const float *x, intptr_t xstride, const float *sums, intptr_t sstride,
                                      intptr_t rows, intptr_t groups, float *out, intptr_t ostride) {
    dots(row, x, xstride, sums, sstride, rows, groups, out, ostride, ROWS_Q4_1);
}

// Q8_0 has no minimums: `sums` is not read.
AVX2_KERNEL void loupe_avx2_dots_q8_0(const void *row, const float *x, intptr_t xstride, const float *sums, intptr_t sstride,
                                      intptr_t rows, intptr_t groups, float *out, intptr_t ostride) {
    dots(row, x, xstride, sums, sstride, rows, groups, out, ostride, ROWS_Q8_0);
}

// Q4_K: `groups` is a multiple of 8 (whole 256-element blocks).
AVX2_KERNEL void loupe_avx2_dots_q4_K(const void *row, const float *x, intptr_t xstride, const float *sums, intptr_t sstride,
                                      intptr_t rows, intptr_t groups, float *out, intptr_t ostride) {
    dots(row, x, xstride, sums, sstride, rows, groups, out, ostride, ROWS_Q4_K);
}

#else
#include <stdlib.h>
#define STUB(name) void name(const void *r, const float *x, intptr_t xs, const float *s, intptr_t ss, intptr_t n, intptr_t g, \
                             float *o, intptr_t os) { (void)r; (void)x; (void)xs; (void)s; (void)ss; (void)n; (void)g; (void)o; (void)os; abort(); }
STUB(loupe_avx2_dots_q4_1) STUB(loupe_avx2_dots_q8_0) STUB(loupe_avx2_dots_q4_K)
#endif
