// AVX2 kernels for the forward pass's elementwise work (Linalg's `Kernels` calls them after a
// CPUID check; its Swift loops stay the reference and the fallback). SwiGLU, the exponential
// sums and rope use the Swift loops' operations in the same order with no FMA contraction,
// so they are bit-identical to them; the attention dot products use FMA, as the Swift loops'
// `Relaxed` arithmetic allows.
#include "CKernels.h"

#if defined(__x86_64__)
#include "avx2_common.h"

#pragma clang fp contract(off)

// e^x in eight lanes: Linalg's `Kernels.exp8`, operation for operation.
AVX2 __m256 exp8(__m256 x) {
    const __m256 isNumber = _mm256_cmp_ps(x, x, _CMP_ORD_Q);
    __m256 xs = _mm256_and_ps(x, isNumber);
    xs = _mm256_blendv_ps(xs, _mm256_set1_ps(-87.0f), _mm256_cmp_ps(xs, _mm256_set1_ps(-87.0f), _CMP_LT_OQ));
    xs = _mm256_blendv_ps(xs, _mm256_set1_ps(88.0f), _mm256_cmp_ps(xs, _mm256_set1_ps(88.0f), _CMP_GT_OQ));
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    const __m256 shifted = _mm256_add_ps(_mm256_mul_ps(xs, _mm256_set1_ps(1.44269504088896341f)), magic);
    const __m256 n = _mm256_sub_ps(shifted, magic);
    const __m256 r = _mm256_add_ps(_mm256_sub_ps(xs, _mm256_mul_ps(n, _mm256_set1_ps(0.693359375f))),
                                   _mm256_mul_ps(n, _mm256_set1_ps(2.12194440e-4f)));
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 120));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 24));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 6));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(0.5f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
    const __m256i integer = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(0x4B400000));
    const __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(integer, _mm256_set1_epi32(127)), 23));
    return _mm256_blendv_ps(_mm256_mul_ps(p, scale), x, _mm256_xor_ps(isNumber, _mm256_castsi256_ps(_mm256_set1_epi32(-1))));
}

AVX2_KERNEL void loupe_avx2_stream_copy(const float *src, float *dst, intptr_t count) {
    intptr_t i = 0;
    while (i < count && ((uintptr_t)(dst + i) & 31) != 0) { dst[i] = src[i]; i++; }
    for (; i + 32 <= count; i += 32) {
        const __m256 a = _mm256_loadu_ps(src + i), b = _mm256_loadu_ps(src + i + 8);
        const __m256 c = _mm256_loadu_ps(src + i + 16), d = _mm256_loadu_ps(src + i + 24);
        _mm256_stream_ps(dst + i, a);
        _mm256_stream_ps(dst + i + 8, b);
        _mm256_stream_ps(dst + i + 16, c);
        _mm256_stream_ps(dst + i + 24, d);
    }
    for (; i < count; i++) dst[i] = src[i];
    _mm_sfence();
}

AVX2_KERNEL intptr_t loupe_avx2_swiglu(float *gate, const float *up, intptr_t count) {
    intptr_t i = 0;
    const __m256 one = _mm256_set1_ps(1.0f), negative = _mm256_set1_ps(-0.0f);
    for (; i + 8 <= count; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i), u = _mm256_loadu_ps(up + i);
        const __m256 e = exp8(_mm256_xor_ps(g, negative));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), u));
    }
    return i;
}

AVX2_KERNEL float loupe_avx2_max(const float *x, intptr_t count, intptr_t *done) {
    __m256 m = _mm256_set1_ps(-__builtin_inff());
    intptr_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        m = _mm256_blendv_ps(m, v, _mm256_cmp_ps(v, m, _CMP_GT_OQ));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, m);
    float best = lanes[0];
    for (int k = 1; k < 8; k++) if (lanes[k] > best) best = lanes[k];
    *done = i;
    return best;
}

AVX2_KERNEL double loupe_avx2_exp_sum(const float *x, intptr_t count, float shift, intptr_t block, intptr_t *done) {
    const intptr_t whole = count - count % 8;
    const __m256 s = _mm256_set1_ps(shift);
    double total = 0;
    intptr_t i = 0;
    while (i < whole) {
        __m256 sum = _mm256_setzero_ps();
        const intptr_t end = whole < i + block ? whole : i + block;
        for (; i < end; i += 8) sum = _mm256_add_ps(sum, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), s)));
        float lanes[8];
        _mm256_storeu_ps(lanes, sum);
        for (int k = 0; k < 8; k++) total += (double)lanes[k];
    }
    *done = i;
    return total;
}

AVX2_KERNEL void loupe_avx2_rope(float *v, const float *c, const float *s, intptr_t half) {
    intptr_t i = 0;
    for (; i + 8 <= half; i += 8) {
        const __m256 a = _mm256_loadu_ps(v + i), b = _mm256_loadu_ps(v + half + i);
        const __m256 ci = _mm256_loadu_ps(c + i), si = _mm256_loadu_ps(s + i);
        _mm256_storeu_ps(v + i, _mm256_sub_ps(_mm256_mul_ps(a, ci), _mm256_mul_ps(b, si)));
        _mm256_storeu_ps(v + half + i, _mm256_add_ps(_mm256_mul_ps(b, ci), _mm256_mul_ps(a, si)));
    }
    for (; i < half; i++) {
        const float a = v[i], b = v[half + i];
        v[i] = a * c[i] - b * s[i];
        v[half + i] = b * c[i] + a * s[i];
    }
}

AVX2_KERNEL void loupe_avx2_softmax_row(float *x, intptr_t valid, intptr_t width) {
    intptr_t i = 0;
    float m = valid > 0 ? loupe_avx2_max(x, valid, &i) : 0;
    for (; i < valid; i++) if (x[i] > m) m = x[i];
    const __m256 shift = _mm256_set1_ps(m);
    __m256 sum8 = _mm256_setzero_ps();
    for (i = 0; i + 8 <= valid; i += 8) {
        const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), shift));
        _mm256_storeu_ps(x + i, e);
        sum8 = _mm256_add_ps(sum8, e);
    }
    float sum = hsum(sum8);
    for (; i < valid; i++) {
        float e[8] = {x[i] - m, 0, 0, 0, 0, 0, 0, 0};
        _mm256_storeu_ps(e, exp8(_mm256_loadu_ps(e)));
        x[i] = e[0];
        sum += e[0];
    }
    const __m256 inv = _mm256_set1_ps(1.0f / sum);
    for (i = 0; i + 8 <= valid; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
    for (; i < valid; i++) x[i] *= 1.0f / sum;
    for (i = valid; i < width; i++) x[i] = 0;
}

// sum_d a[d] * b[d] with FMA over eight lanes (width any).
AVX2 float dot(const float *a, const float *b, intptr_t width) {
    __m256 acc = _mm256_setzero_ps();
    intptr_t d = 0;
    for (; d + 8 <= width; d += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + d), _mm256_loadu_ps(b + d), acc);
    float total = hsum(acc);
    for (; d < width; d++) total += a[d] * b[d];
    return total;
}

AVX2_KERNEL void loupe_avx2_scores_causal(const float *q, intptr_t q_stride, const float *k, intptr_t k_stride,
                                          intptr_t rows, intptr_t past, intptr_t width, float scale,
                                          float *out, intptr_t out_stride) {
    const intptr_t whole = width - width % 8;
    for (intptr_t i = 0; i < rows; i++) {
        const float *qi = q + i * q_stride;
        float *o = out + i * out_stride;
        const intptr_t keys = past + i + 1;
        intptr_t j = 0;
        // Four keys at a time: four independent FMA chains.
        for (; j + 4 <= keys; j += 4) {
            const float *k0 = k + j * k_stride, *k1 = k0 + k_stride, *k2 = k1 + k_stride, *k3 = k2 + k_stride;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (intptr_t d = 0; d < whole; d += 8) {
                const __m256 x = _mm256_loadu_ps(qi + d);
                a0 = _mm256_fmadd_ps(x, _mm256_loadu_ps(k0 + d), a0);
                a1 = _mm256_fmadd_ps(x, _mm256_loadu_ps(k1 + d), a1);
                a2 = _mm256_fmadd_ps(x, _mm256_loadu_ps(k2 + d), a2);
                a3 = _mm256_fmadd_ps(x, _mm256_loadu_ps(k3 + d), a3);
            }
            float t0 = hsum(a0), t1 = hsum(a1), t2 = hsum(a2), t3 = hsum(a3);
            for (intptr_t d = whole; d < width; d++) {
                t0 += qi[d] * k0[d]; t1 += qi[d] * k1[d]; t2 += qi[d] * k2[d]; t3 += qi[d] * k3[d];
            }
            o[j] = t0 * scale; o[j + 1] = t1 * scale; o[j + 2] = t2 * scale; o[j + 3] = t3 * scale;
        }
        for (; j < keys; j++) o[j] = dot(qi, k + j * k_stride, width) * scale;
    }
}

AVX2_KERNEL void loupe_avx2_weighted_sum(const float *p, intptr_t p_stride, const float *v, intptr_t v_stride,
                                         intptr_t rows, intptr_t past, intptr_t width,
                                         float *out, intptr_t out_stride) {
    for (intptr_t i = 0; i < rows; i++) {
        const float *pi = p + i * p_stride;
        float *o = out + i * out_stride;
        const intptr_t keys = past + i + 1;
        intptr_t d = 0;
        // 32 output lanes at a time: four independent FMA chains over the keys.
        for (; d + 32 <= width; d += 32) {
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (intptr_t j = 0; j < keys; j++) {
                const __m256 w = _mm256_set1_ps(pi[j]);
                const float *vj = v + j * v_stride + d;
                a0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(vj), a0);
                a1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(vj + 8), a1);
                a2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(vj + 16), a2);
                a3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(vj + 24), a3);
            }
            _mm256_storeu_ps(o + d, a0);
            _mm256_storeu_ps(o + d + 8, a1);
            _mm256_storeu_ps(o + d + 16, a2);
            _mm256_storeu_ps(o + d + 24, a3);
        }
        for (; d + 8 <= width; d += 8) {
            __m256 acc = _mm256_setzero_ps();
            for (intptr_t j = 0; j < keys; j++)
                acc = _mm256_fmadd_ps(_mm256_set1_ps(pi[j]), _mm256_loadu_ps(v + j * v_stride + d), acc);
            _mm256_storeu_ps(o + d, acc);
        }
        for (; d < width; d++) {
            float acc = 0;
            for (intptr_t j = 0; j < keys; j++) acc += pi[j] * v[j * v_stride + d];
            o[d] = acc;
        }
    }
}

#else
#include <stdlib.h>
intptr_t loupe_avx2_swiglu(float *gate, const float *up, intptr_t count) { abort(); }
void loupe_avx2_stream_copy(const float *src, float *dst, intptr_t count) { (void)src; (void)dst; (void)count; abort(); }
float loupe_avx2_max(const float *x, intptr_t count, intptr_t *done) { abort(); }
double loupe_avx2_exp_sum(const float *x, intptr_t count, float shift, intptr_t block, intptr_t *done) { abort(); }
void loupe_avx2_rope(float *v, const float *c, const float *s, intptr_t half) { abort(); }
void loupe_avx2_softmax_row(float *x, intptr_t valid, intptr_t width) { abort(); }
void loupe_avx2_scores_causal(const float *q, intptr_t q_stride, const float *k, intptr_t k_stride,
                              intptr_t rows, intptr_t past, intptr_t width, float scale,
                              float *out, intptr_t out_stride) { abort(); }
void loupe_avx2_weighted_sum(const float *p, intptr_t p_stride, const float *v, intptr_t v_stride,
                             intptr_t rows, intptr_t past, intptr_t width,
                             float *out, intptr_t out_stride) { abort(); }
#endif
