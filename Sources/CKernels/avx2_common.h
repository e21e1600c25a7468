// Helpers shared by the AVX2 kernel files (private to CKernels).
#ifndef LOUPE_AVX2_COMMON_H
#define LOUPE_AVX2_COMMON_H

#include <stdint.h>
#include <string.h>
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma,f16c"), always_inline)) static inline
#define AVX2_KERNEL __attribute__((target("avx2,fma,f16c")))

// The f16 at byte `offset` of `p` as a float (exact). Moved in through a general register
// (vmovd), so the conversion does not depend on whatever the destination register held.
AVX2 float half_at(const uint8_t *p, int offset) {
    uint16_t h;
    memcpy(&h, p + offset, 2);
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

// The two f16s at byte `offset` of `p` (a block's d and m) as floats in lanes 0 and 1.
AVX2 __m128 halves2_at(const uint8_t *p, int offset) {
    uint32_t h;
    memcpy(&h, p + offset, 4);
    return _mm_cvtph_ps(_mm_cvtsi32_si128((int)h));
}

// 8 bytes at `p` zero- or sign-extended to eight 32-bit lanes.
AVX2 __m256i u8x8(const uint8_t *p) { return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)); }
AVX2 __m256i i8x8(const uint8_t *p) { return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)); }

// Lanes as floats.
AVX2 __m256 fl(__m256i v) { return _mm256_cvtepi32_ps(v); }

// Sum of the eight lanes.
AVX2 float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Bits j0..j0+7 of `qh` as 0 or 16 per lane (the fifth bits of Q5_0/Q5_1 elements j0..j0+7).
AVX2 __m256i fifth_bits(uint32_t qh, int j0) {
    const __m256i shifts = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i v = _mm256_srlv_epi32(_mm256_set1_epi32((int)(qh >> j0)), shifts);
    return _mm256_slli_epi32(_mm256_and_si256(v, _mm256_set1_epi32(1)), 4);
}

// The 6-bit scale and min of group j (0..<8) of a Q4_K/Q5_K block's 12 packed bytes
// (get_scale_min_k4 in ggml-quants.c).
AVX2 void scale_min(const uint8_t *q, int j, float *scale, float *min) {
    if (j < 4) {
        *scale = (float)(q[j] & 63);
        *min = (float)(q[j + 4] & 63);
    } else {
        *scale = (float)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *min = (float)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

#endif
