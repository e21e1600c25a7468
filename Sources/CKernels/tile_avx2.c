// AVX2 tile kernels: GGUF blocks dequantized into float32 in file order for the tiled
// product (sgemm). Each value is computed with the operations of Formats' `Dequantize`
// kernels, in the same order and with no FMA contraction, so the output is bit-identical.
#include "CKernels.h"

#if defined(__x86_64__)
#include "avx2_common.h"

#pragma clang fp contract(off)

AVX2 void put(float *o, __m256 v) { _mm256_storeu_ps(o, v); }

// block_q8_0: x = q * d.
AVX2_KERNEL void loupe_avx2_tile_q8_0(const void *src, float *dst, intptr_t groups) {
    const uint8_t *s = src;
    for (intptr_t g = 0; g < groups; g++) {
        const uint8_t *p = s + 34 * g;
        float *o = dst + 32 * g;
        const __m256 d = _mm256_set1_ps(half_at(p, 0));
        for (int j = 0; j < 4; j++) put(o + 8 * j, _mm256_mul_ps(fl(i8x8(p + 2 + 8 * j)), d));
    }
}

// The 32 values of a 4- or 5-bit group at `qs` (low nibbles: elements 0..15, high: 16..31,
// plus the fifth bits of `qh` when given), as integers in file order.
AVX2 void nibble_values(const uint8_t *qs, const uint32_t *qh, __m256i q[4]) {
    const __m256i mask = _mm256_set1_epi32(0xF);
    __m256i a = u8x8(qs), b = u8x8(qs + 8);
    q[0] = _mm256_and_si256(a, mask);
    q[1] = _mm256_and_si256(b, mask);
    q[2] = _mm256_srli_epi32(a, 4);
    q[3] = _mm256_srli_epi32(b, 4);
    if (qh) for (int j = 0; j < 4; j++) q[j] = _mm256_or_si256(q[j], fifth_bits(*qh, 8 * j));
}

// block_q4_0 / q5_0: x = d * (q - offset).
AVX2 void offset_tile(const uint8_t *s, float *dst, intptr_t groups, int five) {
    const int size = five ? 22 : 18;
    const __m256i o = _mm256_set1_epi32(five ? 16 : 8);
    for (intptr_t g = 0; g < groups; g++) {
        const uint8_t *p = s + size * g;
        uint32_t qh = 0;
        if (five) memcpy(&qh, p + 2, 4);
        __m256i q[4];
        nibble_values(p + (five ? 6 : 2), five ? &qh : 0, q);
        const __m256 d = _mm256_set1_ps(half_at(p, 0));
        for (int j = 0; j < 4; j++) put(dst + 32 * g + 8 * j, _mm256_mul_ps(d, fl(_mm256_sub_epi32(q[j], o))));
    }
}

// block_q4_1 / q5_1: x = d * q + m.
AVX2 void min_tile(const uint8_t *s, float *dst, intptr_t groups, int five) {
    const int size = five ? 24 : 20;
    for (intptr_t g = 0; g < groups; g++) {
        const uint8_t *p = s + size * g;
        uint32_t qh = 0;
        if (five) memcpy(&qh, p + 4, 4);
        __m256i q[4];
        nibble_values(p + (five ? 8 : 4), five ? &qh : 0, q);
        const __m256 d = _mm256_set1_ps(half_at(p, 0)), m = _mm256_set1_ps(half_at(p, 2));
        for (int j = 0; j < 4; j++) put(dst + 32 * g + 8 * j, _mm256_add_ps(_mm256_mul_ps(d, fl(q[j])), m));
    }
}

AVX2_KERNEL void loupe_avx2_tile_q4_0(const void *src, float *dst, intptr_t groups) { offset_tile(src, dst, groups, 0); }
AVX2_KERNEL void loupe_avx2_tile_q5_0(const void *src, float *dst, intptr_t groups) { offset_tile(src, dst, groups, 1); }
AVX2_KERNEL void loupe_avx2_tile_q4_1(const void *src, float *dst, intptr_t groups) { min_tile(src, dst, groups, 0); }
AVX2_KERNEL void loupe_avx2_tile_q5_1(const void *src, float *dst, intptr_t groups) { min_tile(src, dst, groups, 1); }

// Q4_K (144-byte blocks, qs at 16) and Q5_K (176, qh at 16, qs at 48): group pair i reads
// qs[32i..<32i+32], low nibbles for group 2i, high for 2i+1; x = (d * sc) * q - (dmin * m).
AVX2 void kquant_tile(const uint8_t *s, float *dst, intptr_t groups, int five) {
    const int size = five ? 176 : 144, qsAt = five ? 48 : 16;
    const __m256i mask = _mm256_set1_epi32(0xF), one = _mm256_set1_epi32(1);
    for (intptr_t blk = 0; blk < groups / 8; blk++) {
        const uint8_t *p = s + size * blk;
        const float d = half_at(p, 0), dmin = half_at(p, 2);
        for (int i = 0; i < 4; i++) {
            float s1, m1, s2, m2;
            scale_min(p + 4, 2 * i, &s1, &m1);
            scale_min(p + 4, 2 * i + 1, &s2, &m2);
            const __m256 d1 = _mm256_set1_ps(d * s1), min1 = _mm256_set1_ps(dmin * m1);
            const __m256 d2 = _mm256_set1_ps(d * s2), min2 = _mm256_set1_ps(dmin * m2);
            const __m128i shiftLo = _mm_cvtsi32_si128(2 * i), shiftHi = _mm_cvtsi32_si128(2 * i + 1);
            float *out = dst + 256 * blk + 64 * i;
            for (int l = 0; l < 32; l += 8) {
                __m256i v = u8x8(p + qsAt + 32 * i + l);
                __m256i q0 = _mm256_and_si256(v, mask), q1 = _mm256_srli_epi32(v, 4);
                if (five) {
                    __m256i h = u8x8(p + 16 + l);
                    q0 = _mm256_or_si256(q0, _mm256_slli_epi32(_mm256_and_si256(_mm256_srl_epi32(h, shiftLo), one), 4));
                    q1 = _mm256_or_si256(q1, _mm256_slli_epi32(_mm256_and_si256(_mm256_srl_epi32(h, shiftHi), one), 4));
                }
                put(out + l, _mm256_sub_ps(_mm256_mul_ps(d1, fl(q0)), min1));
                put(out + 32 + l, _mm256_sub_ps(_mm256_mul_ps(d2, fl(q1)), min2));
            }
        }
    }
}

AVX2_KERNEL void loupe_avx2_tile_q4_K(const void *src, float *dst, intptr_t groups) { kquant_tile(src, dst, groups, 0); }
AVX2_KERNEL void loupe_avx2_tile_q5_K(const void *src, float *dst, intptr_t groups) { kquant_tile(src, dst, groups, 1); }

// block_q6_K: x = (d * scale) * (q - 32), one int8 scale per 16 elements.
AVX2_KERNEL void loupe_avx2_tile_q6_K(const void *src, float *dst, intptr_t groups) {
    const uint8_t *s = src;
    const __m256i mask = _mm256_set1_epi32(0xF), three = _mm256_set1_epi32(3), o = _mm256_set1_epi32(32);
    for (intptr_t blk = 0; blk < groups / 8; blk++) {
        const uint8_t *p = s + 210 * blk;
        const float d = half_at(p, 208);
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = p + 64 * h, *qh = p + 128 + 32 * h;
            const int8_t *sc = (const int8_t *)(p + 192 + 8 * h);
            float *out = dst + 256 * blk + 128 * h;
            for (int l = 0; l < 32; l += 8) {
                __m256i a = u8x8(ql + l), c = u8x8(ql + 32 + l), hb = u8x8(qh + l);
                __m256i q[4];
                q[0] = _mm256_or_si256(_mm256_and_si256(a, mask), _mm256_slli_epi32(_mm256_and_si256(hb, three), 4));
                q[1] = _mm256_or_si256(_mm256_and_si256(c, mask),
                                       _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(hb, 2), three), 4));
                q[2] = _mm256_or_si256(_mm256_srli_epi32(a, 4),
                                       _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(hb, 4), three), 4));
                q[3] = _mm256_or_si256(_mm256_srli_epi32(c, 4), _mm256_slli_epi32(_mm256_srli_epi32(hb, 6), 4));
                for (int j = 0; j < 4; j++) {
                    const __m256 scale = _mm256_set1_ps(d * (float)sc[l / 16 + 2 * j]);
                    put(out + 32 * j + l, _mm256_mul_ps(scale, fl(_mm256_sub_epi32(q[j], o))));
                }
            }
        }
    }
}

// IEEE halves (vcvtph2ps, exact).
AVX2_KERNEL void loupe_avx2_tile_f16(const void *src, float *dst, intptr_t groups) {
    const uint8_t *s = src;
    for (intptr_t i = 0; i < 32 * groups; i += 8) put(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + 2 * i))));
}

// bfloat16: the top half of a float's bits.
AVX2_KERNEL void loupe_avx2_tile_bf16(const void *src, float *dst, intptr_t groups) {
    const uint8_t *s = src;
    for (intptr_t i = 0; i < 32 * groups; i += 8) {
        __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(s + 2 * i)));
        put(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)));
    }
}

#else
#include <stdlib.h>
#define STUB(name) void name(const void *s, float *d, intptr_t g) { (void)s; (void)d; (void)g; abort(); }
STUB(loupe_avx2_tile_q8_0) STUB(loupe_avx2_tile_q4_0) STUB(loupe_avx2_tile_q4_1) STUB(loupe_avx2_tile_q5_0)
STUB(loupe_avx2_tile_q5_1) STUB(loupe_avx2_tile_q4_K) STUB(loupe_avx2_tile_q5_K) STUB(loupe_avx2_tile_q6_K)
STUB(loupe_avx2_tile_f16) STUB(loupe_avx2_tile_bf16)
#endif
