// AVX-512 matrix product for the linear layers' many-row products: c[m x n] = a[m x k] · w[n x k]ᵀ,
// all row-major (the layout of a dequantized weight tile and of the activations).
//
// A blocked scheme after Goto/BLIS: `a` is packed once into panels of up to 12 rows, each
// stored column by column ([l][r]); 32 rows of `w` at a time are transposed into a panel
// [l][c] (16 x 16 transposes in registers) over the whole depth k (up to 2048, else slices of
// it), and every `a` panel is multiplied into a 12 x 32 block of `c` held in 24 zmm
// accumulators (one broadcast per row and step, two FMAs). The weight panel (at most 256 KiB)
// stays in L2 while the `a` panels stream past it, and each block of `c` is written once:
// with 256-deep slices instead, reading back and adding to blocks of `c` that had left L2
// cost the causal trace 5-10% (its 550-row batches' outputs are 1-3 MB). Each element is the
// same sum in the same order whatever the column split across threads.
// The rows of `w` are float32 or GGUF blocks of any of the ten types Formats reads in place:
// `row32` (and `row16`) dequantize 32 (16) elements of a row at a time exactly as Formats'
// `Dequantize` does, so no float32 tile of the matrix is ever written.
#include "CKernels.h"

#if defined(__x86_64__)
#include "avx2_common.h"

// AVX-512F CPUs all have AVX2, FMA and F16C; naming them lets these functions inline
// avx2_common.h's helpers.
#define AVX512 __attribute__((target("avx512f,avx2,fma,f16c"), always_inline)) static inline
#define AVX512_KERNEL __attribute__((target("avx512f,avx2,fma,f16c")))

enum { MR = LOUPE_GEMM_PANEL_ROWS, NR = LOUPE_GEMM_PANEL_COLUMNS };

// Rows of panel p when m rows are split into `panels` nearly equal panels (no one-row tails).
static inline intptr_t panel_rows(intptr_t m, intptr_t panels, intptr_t p) {
    return m / panels + (p < m % panels ? 1 : 0);
}
static inline intptr_t panel_start(intptr_t m, intptr_t panels, intptr_t p) {
    const intptr_t base = m / panels, extra = m % panels;
    return p * base + (p < extra ? p : extra);
}

intptr_t loupe_gemm_panels(intptr_t m) { return (m + MR - 1) / MR; }

intptr_t loupe_gemm_depth(intptr_t k) {
    if (k <= LOUPE_GEMM_MAX_DEPTH) return k;
    const intptr_t slices = (k + LOUPE_GEMM_MAX_DEPTH - 1) / LOUPE_GEMM_MAX_DEPTH;
    return ((k + slices - 1) / slices + 255) / 256 * 256;
}

// Sixteen vectors transposed in registers: col[l] lane i = r[i] lane l.
AVX512 void transpose16(const __m512 r[16], __m512 col[16]) {
    __m512 t[16], u[16];
    // Pairs of rows interleaved within each 128-bit lane.
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // u[4g + q], 128-bit lane L: column 4L + q of rows 4g..4g+3.
    for (int g = 0; g < 4; g++) {
        u[4 * g] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        u[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
        u[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        u[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
    // Column 4L + q: lane L of u[q], u[4 + q], u[8 + q], u[12 + q].
    for (int q = 0; q < 4; q++) {
        const __m512 v0 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0x44), v1 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0xEE);
        const __m512 v2 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0x44), v3 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0xEE);
        col[q] = _mm512_shuffle_f32x4(v0, v2, 0x88);
        col[4 + q] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
        col[8 + q] = _mm512_shuffle_f32x4(v1, v3, 0x88);
        col[12 + q] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
    }
}

// Panel p of `a` as out[l * MR + r] (rows beyond the panel's zero): sixteen columns at a
// time transposed in registers, the rest one by one.
AVX512_KERNEL void loupe_avx512_pack_rows(const float *a, intptr_t m, intptr_t k, intptr_t lda, float *packed,
                                          intptr_t p0, intptr_t p1) {
    const intptr_t panels = loupe_gemm_panels(m);
    const __mmask16 keep = (1u << MR) - 1;
    for (intptr_t p = p0; p < p1 && p < panels; p++) {
        const intptr_t first = panel_start(m, panels, p), rows = panel_rows(m, panels, p);
        float *out = packed + p * MR * k;
        intptr_t l = 0;
        for (; l + 16 <= k; l += 16) {
            __m512 r[16], col[16];
            for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_loadu_ps(a + (first + i) * lda + l) : _mm512_setzero_ps();
            transpose16(r, col);
            for (int j = 0; j < 16; j++) _mm512_mask_storeu_ps(out + (l + j) * MR, keep, col[j]);
        }
        for (intptr_t r = 0; r < MR; r++) {
            const float *src = a + (first + r) * lda;
            for (intptr_t x = l; x < k; x++) out[x * MR + r] = r < rows ? src[x] : 0.f;
        }
    }
}

// Where the weight rows come from: float32 rows, or GGUF blocks (`LOUPE_BLOCKS_*`)
// dequantized on the fly with the operations of Formats' `Dequantize` in its order (no FMA
// contraction), so a product from blocks equals the product from a dequantized tile bit for bit.
enum { F32 = 0 };

// Bytes of one block and elements per block of a source.
static inline intptr_t block_bytes(const int type) {
    switch (type) {
    case LOUPE_BLOCKS_Q8_0: return 34;
    case LOUPE_BLOCKS_Q4_0: return 18;
    case LOUPE_BLOCKS_Q4_1: return 20;
    case LOUPE_BLOCKS_Q5_0: return 22;
    case LOUPE_BLOCKS_Q5_1: return 24;
    case LOUPE_BLOCKS_Q4_K: return 144;
    case LOUPE_BLOCKS_Q5_K: return 176;
    case LOUPE_BLOCKS_Q6_K: return 210;
    case LOUPE_BLOCKS_F16: case LOUPE_BLOCKS_BF16: return 64;
    default: return 128;   // F32: 32 floats
    }
}
static inline intptr_t block_elements(const int type) {
    return type == LOUPE_BLOCKS_Q4_K || type == LOUPE_BLOCKS_Q5_K || type == LOUPE_BLOCKS_Q6_K ? 256 : 32;
}

#pragma clang fp contract(off)

// The 16 bytes at p widened to 32-bit lanes.
AVX512 __m512i bytes16(const uint8_t *p) { return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p)); }

// Bits b..b+15 of the 32-bit word at p, as 0 or 16 per lane (Q5_0/Q5_1's fifth bits).
AVX512 __m512i fifth16(const uint8_t *p, int b) {
    uint32_t qh;
    memcpy(&qh, p, 4);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i bits = _mm512_srlv_epi32(_mm512_set1_epi32((int)(qh >> b)), iota);
    return _mm512_slli_epi32(_mm512_and_si512(bits, _mm512_set1_epi32(1)), 4);
}

// Elements e..<e+16 (e a multiple of 16) of row j, for float32, the 16-bit types and Q6_K
// (whose two halves of a group have scales of their own); `row32` decodes the other block
// types 32 elements at a time.
AVX512 __m512 row16(const uint8_t *w, intptr_t rowBytes, intptr_t j, intptr_t e, const int type) {
    const uint8_t *row = w + j * rowBytes;
    const __m512i low = _mm512_set1_epi32(0xF);
    const intptr_t o = e & 31;                                       // 0 or 16 within a group of 32
    if (type == F32) return _mm512_loadu_ps((const float *)row + e);
    if (type == LOUPE_BLOCKS_F16) return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + 2 * e)));
    if (type == LOUPE_BLOCKS_BF16) {
        const __m512i h = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(row + 2 * e)));
        return _mm512_castsi512_ps(_mm512_slli_epi32(h, 16));
    }
    // LOUPE_BLOCKS_Q6_K: (d * scale) * (q - 32), ql[128] qh[64] scales[16] d.
    const uint8_t *p = row + 210 * (e >> 8);
    const intptr_t h = (e & 255) >> 7, g = (e & 127) >> 5;          // half, group of 32 in it
    __m512i q = bytes16(p + 64 * h + (g & 1 ? 32 : 0) + o);
    q = g >= 2 ? _mm512_srli_epi32(q, 4) : _mm512_and_si512(q, low);
    const __m512i hb = _mm512_srl_epi32(bytes16(p + 128 + 32 * h + o), _mm_cvtsi32_si128((int)(2 * g)));
    q = _mm512_or_si512(q, _mm512_slli_epi32(_mm512_and_si512(hb, _mm512_set1_epi32(3)), 4));
    const float scale = half_at(p, 208) * (float)(int8_t)p[192 + 8 * h + o / 16 + 2 * g];
    return _mm512_mul_ps(_mm512_set1_ps(scale), _mm512_cvtepi32_ps(_mm512_sub_epi32(q, _mm512_set1_epi32(32))));
}

// Elements e..<e+32 (e a multiple of 32) of row j of a block type (not float32) into lo and
// hi: each group's scales and bytes read once for both halves, the arithmetic per element
// that of `Dequantize`.
AVX512 void row32(const uint8_t *w, intptr_t rowBytes, intptr_t j, intptr_t e, const int type, __m512 *lo, __m512 *hi) {
    const uint8_t *row = w + j * rowBytes;
    const __m512i low = _mm512_set1_epi32(0xF);
    if (type == LOUPE_BLOCKS_F16 || type == LOUPE_BLOCKS_BF16 || type == LOUPE_BLOCKS_Q6_K) {
        *lo = row16(w, rowBytes, j, e, type);
        *hi = row16(w, rowBytes, j, e + 16, type);
        return;
    }
    if (type == LOUPE_BLOCKS_Q8_0) {                                // q * d
        const uint8_t *p = row + 34 * (e >> 5);
        const __m512 d = _mm512_set1_ps(half_at(p, 0));
        *lo = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 2)))), d);
        *hi = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 18)))), d);
        return;
    }
    if (type == LOUPE_BLOCKS_Q4_0 || type == LOUPE_BLOCKS_Q5_0 || type == LOUPE_BLOCKS_Q4_1 || type == LOUPE_BLOCKS_Q5_1) {
        const int five = type == LOUPE_BLOCKS_Q5_0 || type == LOUPE_BLOCKS_Q5_1;
        const int offset = type == LOUPE_BLOCKS_Q4_0 || type == LOUPE_BLOCKS_Q5_0;   // d * (q - 8 or 16)
        const intptr_t bytes = type == LOUPE_BLOCKS_Q4_0 ? 18 : type == LOUPE_BLOCKS_Q5_0 ? 22 : type == LOUPE_BLOCKS_Q4_1 ? 20 : 24;
        const intptr_t header = offset ? 2 : 4;                      // d (and m), then qh for five bits
        const uint8_t *p = row + bytes * (e >> 5);
        const __m512i raw = bytes16(p + header + (five ? 4 : 0));
        __m512i q0 = _mm512_and_si512(raw, low), q1 = _mm512_srli_epi32(raw, 4);
        if (five) {
            q0 = _mm512_or_si512(q0, fifth16(p + header, 0));
            q1 = _mm512_or_si512(q1, fifth16(p + header, 16));
        }
        const __m512 d = _mm512_set1_ps(half_at(p, 0));
        if (offset) {
            const __m512i bias = _mm512_set1_epi32(five ? 16 : 8);
            *lo = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_sub_epi32(q0, bias)));
            *hi = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_sub_epi32(q1, bias)));
        } else {                                                     // d * q + m
            const __m512 m = _mm512_set1_ps(half_at(p, 2));
            *lo = _mm512_add_ps(_mm512_mul_ps(d, _mm512_cvtepi32_ps(q0)), m);
            *hi = _mm512_add_ps(_mm512_mul_ps(d, _mm512_cvtepi32_ps(q1)), m);
        }
        return;
    }
    // LOUPE_BLOCKS_Q4_K, LOUPE_BLOCKS_Q5_K: (d * sc) * q - (dmin * m), one scale pair per group of 32.
    const int five = type == LOUPE_BLOCKS_Q5_K;
    const uint8_t *p = row + (five ? 176 : 144) * (e >> 8);
    const int g = (int)((e & 255) >> 5);
    float sc, mn;
    scale_min(p + 4, g, &sc, &mn);
    const uint8_t *qs = p + (five ? 48 : 16) + 32 * (g >> 1);
    __m512i q0 = bytes16(qs), q1 = bytes16(qs + 16);
    if (g & 1) { q0 = _mm512_srli_epi32(q0, 4); q1 = _mm512_srli_epi32(q1, 4); }
    else { q0 = _mm512_and_si512(q0, low); q1 = _mm512_and_si512(q1, low); }
    if (five) {
        const __m128i shift = _mm_cvtsi32_si128(g);
        const __m512i one = _mm512_set1_epi32(1);
        q0 = _mm512_or_si512(q0, _mm512_slli_epi32(_mm512_and_si512(_mm512_srl_epi32(bytes16(p + 16), shift), one), 4));
        q1 = _mm512_or_si512(q1, _mm512_slli_epi32(_mm512_and_si512(_mm512_srl_epi32(bytes16(p + 32), shift), one), 4));
    }
    const float d = half_at(p, 0), dmin = half_at(p, 2);
    const __m512 scale = _mm512_set1_ps(d * sc), shiftMin = _mm512_set1_ps(dmin * mn);
    *lo = _mm512_sub_ps(_mm512_mul_ps(scale, _mm512_cvtepi32_ps(q0)), shiftMin);
    *hi = _mm512_sub_ps(_mm512_mul_ps(scale, _mm512_cvtepi32_ps(q1)), shiftMin);
}

// Element e of row j (the tail of a float32 row whose length is no multiple of 16).
AVX512 float element(const uint8_t *w, intptr_t rowBytes, intptr_t j, intptr_t e) {
    float x;
    memcpy(&x, w + j * rowBytes + 4 * e, 4);
    return x;
}

#pragma clang fp contract(on)

// Asks for the bytes of rows j0..<j0+cols, columns pc..<pc+kc, to be brought into cache
// while the current panel is multiplied: 32 rows read a few lines each are short strided
// runs the hardware prefetchers do not follow, and the weights come from memory.
AVX512 void prefetch_panel(const uint8_t *w, intptr_t rowBytes, const int type, intptr_t j0, intptr_t cols,
                           intptr_t pc, intptr_t kc) {
    const intptr_t per = block_elements(type), bytes = block_bytes(type);
    const intptr_t from = pc / per * bytes, count = (kc + per - 1) / per * bytes;
    for (intptr_t c = 0; c < cols; c++) {
        const uint8_t *p = w + (j0 + c) * rowBytes + from;
        for (intptr_t b = 0; b < count; b += 64) _mm_prefetch((const char *)(p + b), _MM_HINT_T0);
        _mm_prefetch((const char *)(p + count - 1), _MM_HINT_T0);
    }
}

// Rows j0..<j0+cols of the weights, columns pc..<pc+kc, as panel[l * NR + c] (zeros for
// c >= cols): sixteen rows by sixteen columns at a time transposed in registers. For block
// types the next panel's first nextCols rows are prefetched on the way.
AVX512 void pack_columns(const uint8_t *w, intptr_t rowBytes, const int type, intptr_t j0, intptr_t cols,
                         intptr_t pc, intptr_t kc, float *panel, intptr_t nextCols) {
    intptr_t l = 0;
    if (type != F32) {
        // Block types (kc a multiple of 32): each row's next 32 elements decoded at once into a
        // 32 x 32 tile on the stack, then transposed 16 x 16 at a time into the panel. The next
        // panel's rows are asked for in step with the decoding, a block at a time, so the
        // requests overlap the work here (asked for all at once after it, some came late).
        const intptr_t per = block_elements(type), bytes = block_bytes(type);
        float tile[32 * 32] __attribute__((aligned(64)));
        for (; l + 32 <= kc; l += 32) {
            for (int c = 0; c < NR; c++) {
                __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
                if (c < nextCols)
                    _mm_prefetch((const char *)(w + (j0 + NR + c) * rowBytes + (pc + l) * bytes / per), _MM_HINT_T0);
                if (c < cols) row32(w, rowBytes, j0 + c, pc + l, type, &lo, &hi);
                _mm512_store_ps(tile + 32 * c, lo);
                _mm512_store_ps(tile + 32 * c + 16, hi);
            }
            for (int half = 0; half < 2; half++) {
                for (int group = 0; group < 2; group++) {
                    __m512 r[16], col[16];
                    for (int i = 0; i < 16; i++) r[i] = _mm512_load_ps(tile + 32 * (16 * group + i) + 16 * half);
                    transpose16(r, col);
                    for (int j = 0; j < 16; j++) _mm512_storeu_ps(panel + (l + 16 * half + j) * NR + 16 * group, col[j]);
                }
            }
        }
        return;
    }
    // Float32 rows: sixteen elements at a time, then a tail when kc is no multiple of 16.
    for (; l + 16 <= kc; l += 16) {
        for (int half = 0; half < 2; half++) {
            __m512 r[16], col[16];
            for (int i = 0; i < 16; i++)
                r[i] = 16 * half + i < cols ? row16(w, rowBytes, j0 + 16 * half + i, pc + l, type) : _mm512_setzero_ps();
            transpose16(r, col);
            for (int j = 0; j < 16; j++) _mm512_storeu_ps(panel + (l + j) * NR + 16 * half, col[j]);
        }
    }
    for (intptr_t c = 0; c < NR; c++)
        for (intptr_t x = l; x < kc; x++) panel[x * NR + c] = c < cols ? element(w, rowBytes, j0 + c, pc + x) : 0.f;
}

// c[R x cols] (+)= packed-a panel [kc][MR] · w panel [kc][NR]; R constant at each call.
AVX512 void block(const float *ap, const float *bp, intptr_t kc, float *c, intptr_t ldc, const int R, intptr_t cols, int first) {
    __m512 acc[MR][2];
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (intptr_t l = 0; l < kc; l++) {
        const __m512 b0 = _mm512_loadu_ps(bp + l * NR), b1 = _mm512_loadu_ps(bp + l * NR + 16);
        for (int r = 0; r < R; r++) {
            const __m512 a = _mm512_set1_ps(ap[l * MR + r]);
            acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
        }
    }
    const __mmask16 m0 = cols >= 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);
    const __mmask16 m1 = cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
    for (int r = 0; r < R; r++) {
        float *o = c + r * ldc;
        if (!first) {
            acc[r][0] = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, o), acc[r][0]);
            acc[r][1] = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, o + 16), acc[r][1]);
        }
        _mm512_mask_storeu_ps(o, m0, acc[r][0]);
        _mm512_mask_storeu_ps(o + 16, m1, acc[r][1]);
    }
}

AVX512 void block_rows(const float *ap, const float *bp, intptr_t kc, float *c, intptr_t ldc, intptr_t rows, intptr_t cols, int first) {
    switch (rows) {
    case 12: block(ap, bp, kc, c, ldc, 12, cols, first); break;
    case 11: block(ap, bp, kc, c, ldc, 11, cols, first); break;
    case 10: block(ap, bp, kc, c, ldc, 10, cols, first); break;
    case 9: block(ap, bp, kc, c, ldc, 9, cols, first); break;
    case 8: block(ap, bp, kc, c, ldc, 8, cols, first); break;
    case 7: block(ap, bp, kc, c, ldc, 7, cols, first); break;
    case 6: block(ap, bp, kc, c, ldc, 6, cols, first); break;
    case 5: block(ap, bp, kc, c, ldc, 5, cols, first); break;
    case 4: block(ap, bp, kc, c, ldc, 4, cols, first); break;
    case 3: block(ap, bp, kc, c, ldc, 3, cols, first); break;
    case 2: block(ap, bp, kc, c, ldc, 2, cols, first); break;
    case 1: block(ap, bp, kc, c, ldc, 1, cols, first); break;
    default: break;
    }
}

AVX512 void gemm(const float *packed, intptr_t m, intptr_t k, const uint8_t *w, intptr_t rowBytes, const int type,
                 intptr_t jb, intptr_t je, float *c, intptr_t ldc, float *scratch) {
    const intptr_t panels = loupe_gemm_panels(m), depth = loupe_gemm_depth(k);
    for (intptr_t pc = 0; pc < k; pc += depth) {
        const intptr_t kc = k - pc < depth ? k - pc : depth;
        for (intptr_t j0 = jb; j0 < je; j0 += NR) {
            const intptr_t cols = je - j0 < NR ? je - j0 : NR;
            const intptr_t nextCols = je - j0 - NR < 0 ? 0 : je - j0 - NR < NR ? je - j0 - NR : NR;
            pack_columns(w, rowBytes, type, j0, cols, pc, kc, scratch, nextCols);
            if (type == F32 && nextCols > 0) prefetch_panel(w, rowBytes, type, j0 + NR, nextCols, pc, kc);
            for (intptr_t p = 0; p < panels; p++) {
                block_rows(packed + p * MR * k + pc * MR, scratch, kc, c + panel_start(m, panels, p) * ldc + j0, ldc,
                           panel_rows(m, panels, p), cols, pc == 0);
            }
        }
    }
}

// Multiply-adds into 24 independent accumulators and nothing else: the core's FMA rate, which
// `loupe-bench --kernels-bench` sets the product's rate against.
AVX512_KERNEL float loupe_avx512_fma_loop(intptr_t steps) {
    __m512 acc[24];
    const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 24; i++) acc[i] = _mm512_set1_ps((float)i);
    for (intptr_t s = 0; s < steps; s++)
        for (int i = 0; i < 24; i++) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
    __m512 sum = acc[0];
    for (int i = 1; i < 24; i++) sum = _mm512_add_ps(sum, acc[i]);
    return _mm512_reduce_add_ps(sum);
}

AVX512_KERNEL void loupe_avx512_gemm_nt(const float *packed, intptr_t m, intptr_t k, const float *w, intptr_t ldw,
                                        intptr_t jb, intptr_t je, float *c, intptr_t ldc, float *scratch) {
    gemm(packed, m, k, (const uint8_t *)w, 4 * ldw, F32, jb, je, c, ldc, scratch);
}

AVX512_KERNEL void loupe_avx512_gemm_nt_blocks(const float *packed, intptr_t m, intptr_t k, const void *w, intptr_t rowBytes,
                                               int format, intptr_t jb, intptr_t je, float *c, intptr_t ldc, float *scratch) {
    switch (format) {
#define FORMAT(f) case f: gemm(packed, m, k, w, rowBytes, f, jb, je, c, ldc, scratch); break;
    FORMAT(LOUPE_BLOCKS_Q8_0) FORMAT(LOUPE_BLOCKS_Q4_0) FORMAT(LOUPE_BLOCKS_Q4_1) FORMAT(LOUPE_BLOCKS_Q5_0)
    FORMAT(LOUPE_BLOCKS_Q5_1) FORMAT(LOUPE_BLOCKS_Q4_K) FORMAT(LOUPE_BLOCKS_Q5_K) FORMAT(LOUPE_BLOCKS_Q6_K)
    FORMAT(LOUPE_BLOCKS_F16) FORMAT(LOUPE_BLOCKS_BF16)
#undef FORMAT
    default: break;
    }
}

#else
#include <stdlib.h>
intptr_t loupe_gemm_panels(intptr_t m) { return (m + LOUPE_GEMM_PANEL_ROWS - 1) / LOUPE_GEMM_PANEL_ROWS; }
intptr_t loupe_gemm_depth(intptr_t k) { return k; }
void loupe_avx512_pack_rows(const float *a, intptr_t m, intptr_t k, intptr_t lda, float *packed, intptr_t p0, intptr_t p1) {
    (void)a; (void)m; (void)k; (void)lda; (void)packed; (void)p0; (void)p1; abort();
}
void loupe_avx512_gemm_nt(const float *packed, intptr_t m, intptr_t k, const float *w, intptr_t ldw,
                          intptr_t jb, intptr_t je, float *c, intptr_t ldc, float *scratch) {
    (void)packed; (void)m; (void)k; (void)w; (void)ldw; (void)jb; (void)je; (void)c; (void)ldc; (void)scratch; abort();
}
float loupe_avx512_fma_loop(intptr_t steps) { (void)steps; abort(); }
void loupe_avx512_gemm_nt_blocks(const float *packed, intptr_t m, intptr_t k, const void *w, intptr_t rowBytes,
                                 int format, intptr_t jb, intptr_t je, float *c, intptr_t ldc, float *scratch) {
    (void)packed; (void)m; (void)k; (void)w; (void)rowBytes; (void)format; (void)jb; (void)je; (void)c; (void)ldc; (void)scratch;
    abort();
}
#endif
