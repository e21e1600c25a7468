// AVX2/FMA row-dot kernels: sum_k W[k] * x[k] over one row of GGUF blocks, x in file order.
// Each 8-element run of quantized values is widened to 32-bit lanes (vpmovzxbd/vpmovsxbd),
// masked or shifted into place, converted to floats exactly and multiplied into x with FMA;
// a group's partial sum is scaled once by its block scale. Minimums multiply the group's
// input sum. No activation quantization: results equal the dequantized row's dot up to
// float32 summation order (tests bound the difference by sum |W||x|).
#include "CKernels.h"

#if defined(__x86_64__)
#include "avx2_common.h"

// sum of q_i * x_i over 32 nibbles at `qs` (low nibbles: elements 0..15, high: 16..31),
// each value minus `offset` and plus `high(j0)` (fifth bits) when `qh` is given.
AVX2 __m256 nibble_group(const uint8_t *qs, const float *x, int offset, const uint32_t *qh) {
    const __m256i mask = _mm256_set1_epi32(0xF), o = _mm256_set1_epi32(offset);
    __m256i a = u8x8(qs), b = u8x8(qs + 8);
    __m256i q0 = _mm256_and_si256(a, mask), q1 = _mm256_and_si256(b, mask);
    __m256i q2 = _mm256_srli_epi32(a, 4), q3 = _mm256_srli_epi32(b, 4);
    if (qh) {
        q0 = _mm256_or_si256(q0, fifth_bits(*qh, 0));
        q1 = _mm256_or_si256(q1, fifth_bits(*qh, 8));
        q2 = _mm256_or_si256(q2, fifth_bits(*qh, 16));
        q3 = _mm256_or_si256(q3, fifth_bits(*qh, 24));
    }
    __m256 s = _mm256_mul_ps(fl(_mm256_sub_epi32(q0, o)), _mm256_loadu_ps(x));
    __m256 t = _mm256_mul_ps(fl(_mm256_sub_epi32(q2, o)), _mm256_loadu_ps(x + 16));
    s = _mm256_fmadd_ps(fl(_mm256_sub_epi32(q1, o)), _mm256_loadu_ps(x + 8), s);
    t = _mm256_fmadd_ps(fl(_mm256_sub_epi32(q3, o)), _mm256_loadu_ps(x + 24), t);
    return _mm256_add_ps(s, t);
}

// sum of q_i * x_i over one Q8_0 group's 32 signed bytes at `qs`.
AVX2 __m256 q8_group(const uint8_t *qs, const float *x) {
    __m256 s = _mm256_mul_ps(fl(i8x8(qs)), _mm256_loadu_ps(x));
    __m256 t = _mm256_mul_ps(fl(i8x8(qs + 8)), _mm256_loadu_ps(x + 8));
    s = _mm256_fmadd_ps(fl(i8x8(qs + 16)), _mm256_loadu_ps(x + 16), s);
    t = _mm256_fmadd_ps(fl(i8x8(qs + 24)), _mm256_loadu_ps(x + 24), t);
    return _mm256_add_ps(s, t);
}

// block_q8_0: f16 d, int8 qs[32]; x = q * d. Two groups per step into two accumulators.
AVX2_KERNEL float loupe_avx2_dot_q8_0(const void *row, const float *x, const float *sums, intptr_t groups) {
    (void)sums;
    const uint8_t *r = row;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    intptr_t g = 0;
    for (; g + 1 < groups; g += 2) {
        const uint8_t *p = r + 34 * g;
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half_at(p, 0)), q8_group(p + 2, x + 32 * g), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(half_at(p, 34)), q8_group(p + 36, x + 32 * g + 32), acc1);
    }
    if (g < groups) {
        const uint8_t *p = r + 34 * g;
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half_at(p, 0)), q8_group(p + 2, x + 32 * g), acc0);
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}

// block_q4_0: f16 d, qs[16]; x = d * (q - 8).
AVX2_KERNEL float loupe_avx2_dot_q4_0(const void *row, const float *x, const float *sums, intptr_t groups) {
    (void)sums;
    const uint8_t *r = row;
    __m256 acc = _mm256_setzero_ps();
    for (intptr_t g = 0; g < groups; g++) {
        const uint8_t *p = r + 18 * g;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half_at(p, 0)), nibble_group(p + 2, x + 32 * g, 8, 0), acc);
    }
    return hsum(acc);
}

// One Q4_1 group at `p`: acc += d * sum q x, mins += m * sum x.
AVX2 void q4_1_group(const uint8_t *p, const float *x, const float *sum, __m256 *acc, __m128 *mins) {
    const __m128 dm = halves2_at(p, 0);
    *acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(dm), nibble_group(p + 4, x, 0, 0), *acc);
    *mins = _mm_fmadd_ss(_mm_movehdup_ps(dm), _mm_load_ss(sum), *mins);
}

// block_q4_1: f16 d, f16 m, qs[16]; x = d * q + m. Two groups per step into two accumulators.
AVX2_KERNEL float loupe_avx2_dot_q4_1(const void *row, const float *x, const float *sums, intptr_t groups) {
    const uint8_t *r = row;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m128 mins0 = _mm_setzero_ps(), mins1 = _mm_setzero_ps();
    intptr_t g = 0;
    for (; g + 1 < groups; g += 2) {
        q4_1_group(r + 20 * g, x + 32 * g, sums + g, &acc0, &mins0);
        q4_1_group(r + 20 * g + 20, x + 32 * g + 32, sums + g + 1, &acc1, &mins1);
    }
    if (g < groups) q4_1_group(r + 20 * g, x + 32 * g, sums + g, &acc0, &mins0);
    return hsum(_mm256_add_ps(acc0, acc1)) + _mm_cvtss_f32(_mm_add_ss(mins0, mins1));
}

// block_q5_0: f16 d, u32 qh (bit j: fifth bit of element j), qs[16]; x = d * (q - 16).
AVX2_KERNEL float loupe_avx2_dot_q5_0(const void *row, const float *x, const float *sums, intptr_t groups) {
    (void)sums;
    const uint8_t *r = row;
    __m256 acc = _mm256_setzero_ps();
    for (intptr_t g = 0; g < groups; g++) {
        const uint8_t *p = r + 22 * g;
        uint32_t qh;
        memcpy(&qh, p + 2, 4);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half_at(p, 0)), nibble_group(p + 6, x + 32 * g, 16, &qh), acc);
    }
    return hsum(acc);
}

// block_q5_1: f16 d, f16 m, u32 qh, qs[16]; x = d * q + m.
AVX2_KERNEL float loupe_avx2_dot_q5_1(const void *row, const float *x, const float *sums, intptr_t groups) {
    const uint8_t *r = row;
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    for (intptr_t g = 0; g < groups; g++) {
        const uint8_t *p = r + 24 * g;
        uint32_t qh;
        memcpy(&qh, p + 4, 4);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half_at(p, 0)), nibble_group(p + 8, x + 32 * g, 0, &qh), acc);
        mins += half_at(p, 2) * sums[g];
    }
    return hsum(acc) + mins;
}

// One K-quant group pair: the 32 bytes at `qs` give group 2i (low nibbles, plus bit `lo`
// of qh[l] as bit 4 when `qh` is given) and group 2i+1 (high nibbles, bit `lo + 1`).
AVX2 void kquant_pair(const uint8_t *qs, const uint8_t *qh, int lo, const float *x, __m256 *a, __m256 *b) {
    const __m256i mask = _mm256_set1_epi32(0xF), one = _mm256_set1_epi32(1);
    const __m128i shiftLo = _mm_cvtsi32_si128(lo), shiftHi = _mm_cvtsi32_si128(lo + 1);
    __m256 s = _mm256_setzero_ps(), t = _mm256_setzero_ps();
    for (int l = 0; l < 32; l += 8) {
        __m256i v = u8x8(qs + l);
        __m256i q0 = _mm256_and_si256(v, mask), q1 = _mm256_srli_epi32(v, 4);
        if (qh) {
            __m256i h = u8x8(qh + l);
            q0 = _mm256_or_si256(q0, _mm256_slli_epi32(_mm256_and_si256(_mm256_srl_epi32(h, shiftLo), one), 4));
            q1 = _mm256_or_si256(q1, _mm256_slli_epi32(_mm256_and_si256(_mm256_srl_epi32(h, shiftHi), one), 4));
        }
        s = _mm256_fmadd_ps(fl(q0), _mm256_loadu_ps(x + l), s);
        t = _mm256_fmadd_ps(fl(q1), _mm256_loadu_ps(x + 32 + l), t);
    }
    *a = s;
    *b = t;
}

// Q4_K (qh null; 144-byte blocks, qs at 16) and Q5_K (176-byte blocks, qh at 16, qs at 48):
// f16 d, f16 dmin, scales[12]; x = (d * sc) * q - dmin * m per 32-element group.
AVX2 float kquant_dot(const uint8_t *r, const float *x, const float *sums, intptr_t groups, int five) {
    const int size = five ? 176 : 144, qsAt = five ? 48 : 16;
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    for (intptr_t blk = 0; blk < groups / 8; blk++) {
        const uint8_t *p = r + size * blk;
        const float d = half_at(p, 0), dmin = half_at(p, 2);
        for (int i = 0; i < 4; i++) {
            const intptr_t g = 8 * blk + 2 * i;
            float s1, m1, s2, m2;
            scale_min(p + 4, 2 * i, &s1, &m1);
            scale_min(p + 4, 2 * i + 1, &s2, &m2);
            __m256 a, b;
            kquant_pair(p + qsAt + 32 * i, five ? p + 16 : 0, 2 * i, x + 32 * g, &a, &b);
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d * s1), a, acc);
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d * s2), b, acc);
            mins += (dmin * m1) * sums[g] + (dmin * m2) * sums[g + 1];
        }
    }
    return hsum(acc) - mins;
}

AVX2_KERNEL float loupe_avx2_dot_q4_K(const void *row, const float *x, const float *sums, intptr_t groups) {
    return kquant_dot(row, x, sums, groups, 0);
}

AVX2_KERNEL float loupe_avx2_dot_q5_K(const void *row, const float *x, const float *sums, intptr_t groups) {
    return kquant_dot(row, x, sums, groups, 1);
}

// The four 6-bit values of a Q6_K half at l..l+7 (elements l, l+32, l+64, l+96), minus 32.
AVX2 void q6_values(const uint8_t *ql, const uint8_t *qh, int l, __m256i q[4]) {
    const __m256i mask = _mm256_set1_epi32(0xF), three = _mm256_set1_epi32(3), o = _mm256_set1_epi32(32);
    __m256i a = u8x8(ql + l), c = u8x8(ql + 32 + l), h = u8x8(qh + l);
    q[0] = _mm256_or_si256(_mm256_and_si256(a, mask), _mm256_slli_epi32(_mm256_and_si256(h, three), 4));
    q[1] = _mm256_or_si256(_mm256_and_si256(c, mask),
                           _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(h, 2), three), 4));
    q[2] = _mm256_or_si256(_mm256_srli_epi32(a, 4),
                           _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(h, 4), three), 4));
    q[3] = _mm256_or_si256(_mm256_srli_epi32(c, 4), _mm256_slli_epi32(_mm256_srli_epi32(h, 6), 4));
    for (int j = 0; j < 4; j++) q[j] = _mm256_sub_epi32(q[j], o);
}

// block_q6_K: ql[128], qh[64], int8 scales[16], f16 d at 208; x = (d * scale) * (q - 32),
// one scale per 16 elements.
AVX2_KERNEL float loupe_avx2_dot_q6_K(const void *row, const float *x, const float *sums, intptr_t groups) {
    (void)sums;
    const uint8_t *r = row;
    __m256 acc = _mm256_setzero_ps();
    for (intptr_t blk = 0; blk < groups / 8; blk++) {
        const uint8_t *p = r + 210 * blk;
        const float d = half_at(p, 208);
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = p + 64 * h, *qh = p + 128 + 32 * h;
            const int8_t *sc = (const int8_t *)(p + 192 + 8 * h);
            const float *xh = x + 256 * blk + 128 * h;
            for (int s = 0; s < 2; s++) {
                __m256 part[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
                for (int l = 16 * s; l < 16 * s + 16; l += 8) {
                    __m256i q[4];
                    q6_values(ql, qh, l, q);
                    for (int j = 0; j < 4; j++) part[j] = _mm256_fmadd_ps(fl(q[j]), _mm256_loadu_ps(xh + 32 * j + l), part[j]);
                }
                for (int j = 0; j < 4; j++) acc = _mm256_fmadd_ps(_mm256_set1_ps(d * (float)sc[s + 2 * j]), part[j], acc);
            }
        }
    }
    return hsum(acc);
}

// 32 IEEE halves per group (F16C's vcvtph2ps, exact).
AVX2_KERNEL float loupe_avx2_dot_f16(const void *row, const float *x, const float *sums, intptr_t groups) {
    (void)sums;
    const uint8_t *r = row;
    __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
    for (intptr_t i = 0; i < 32 * groups; i += 16) {
        a = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(r + 2 * i))), _mm256_loadu_ps(x + i), a);
        b = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(r + 2 * i + 16))), _mm256_loadu_ps(x + i + 8), b);
    }
    return hsum(_mm256_add_ps(a, b));
}

// bfloat16: the top half of a float's bits.
AVX2 __m256 bf16x8(const uint8_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

AVX2_KERNEL float loupe_avx2_dot_bf16(const void *row, const float *x, const float *sums, intptr_t groups) {
    (void)sums;
    const uint8_t *r = row;
    __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
    for (intptr_t i = 0; i < 32 * groups; i += 16) {
        a = _mm256_fmadd_ps(bf16x8(r + 2 * i), _mm256_loadu_ps(x + i), a);
        b = _mm256_fmadd_ps(bf16x8(r + 2 * i + 16), _mm256_loadu_ps(x + i + 8), b);
    }
    return hsum(_mm256_add_ps(a, b));
}

#else
#include <stdlib.h>
#define STUB(name) float name(const void *r, const float *x, const float *s, intptr_t g) { (void)r; (void)x; (void)s; (void)g; abort(); }
STUB(loupe_avx2_dot_q8_0) STUB(loupe_avx2_dot_q4_0) STUB(loupe_avx2_dot_q4_1) STUB(loupe_avx2_dot_q5_0)
STUB(loupe_avx2_dot_q5_1) STUB(loupe_avx2_dot_q4_K) STUB(loupe_avx2_dot_q5_K) STUB(loupe_avx2_dot_q6_K)
STUB(loupe_avx2_dot_f16) STUB(loupe_avx2_dot_bf16)
#endif
