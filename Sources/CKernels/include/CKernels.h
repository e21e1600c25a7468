// CKernels: AVX2/FMA/F16C kernels for GGUF weights read in place and for the forward pass's
// elementwise work, and an AVX-512 matrix product for many-row linear layers, chosen at run time.
//
// Only Linalg and Formats import this module (scripts/check-layers.sh); Swift code reaches it
// through Linalg's `KernelSet`, `Kernels` and `ProductKernel` and Formats' `RowDot` and
// `QuantizedMatrix`. Every AVX2 kernel is compiled with
// `__attribute__((target("avx2,fma,f16c")))` and the product with `target("avx512f")`, so the
// rest of the binary keeps the x86-64 baseline: call a kernel only when `loupe_cpu_has_avx2()`
// (or `loupe_cpu_has_avx512()`) returned 1 (on other architectures they return 0 and the
// kernels are stubs that trap).
//
// Callers guarantee the ranges: `row`/`src` hold `groups` 32-element groups of whole blocks
// (a K-quant row: `groups / 8` super-blocks), `x` and `dst` hold `32 * groups` floats and
// `sums` holds `groups` floats. Inputs and outputs are in the file's element order.
#ifndef LOUPE_CKERNELS_H
#define LOUPE_CKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when the CPU and OS support AVX2, FMA and F16C (CPUID and XGETBV), else 0.
int loupe_cpu_has_avx2(void);

/// 1 when the CPU and OS support AVX-512F, opmask and ZMM state included, else 0.
int loupe_cpu_has_avx512(void);

/// Processors in the calling thread's CPU affinity mask; 0 when it cannot be read.
int loupe_cpu_affinity_count(void);

/// Row-dot kernels: sum_k W[k] * x[k] over one row of blocks of the named type, float32
/// arithmetic with FMA. `sums[g]` is the float sum of x over group g (used by the types
/// with a per-group minimum or offset).
float loupe_avx2_dot_q8_0(const void *row, const float *x, const float *sums, intptr_t groups);
float loupe_avx2_dot_q4_0(const void *row, const float *x, const float *sums, intptr_t groups);
float loupe_avx2_dot_q4_1(const void *row, const float *x, const float *sums, intptr_t groups);
float loupe_avx2_dot_q5_0(const void *row, const float *x, const float *sums, intptr_t groups);
float loupe_avx2_dot_q5_1(const void *row, const float *x, const float *sums, intptr_t groups);
float loupe_avx2_dot_q4_K(const void *row, const float *x, const float *sums, intptr_t groups);
float loupe_avx2_dot_q5_K(const void *row, const float *x, const float *sums, intptr_t groups);
float loupe_avx2_dot_q6_K(const void *row, const float *x, const float *sums, intptr_t groups);
float loupe_avx2_dot_f16(const void *row, const float *x, const float *sums, intptr_t groups);
float loupe_avx2_dot_bf16(const void *row, const float *x, const float *sums, intptr_t groups);

/// Multi-row dot kernels: out[i * ostride] = sum_k W[k] * x[i * xstride + k] for i < rows,
/// one row of blocks against `rows` input rows (each with its group sums at sums + i * sstride),
/// the weights widened and scaled once per four input rows (float32 with FMA; results agree
/// with the row-dot kernels to summation order).
void loupe_avx2_dots_q4_1(const void *row, const float *x, intptr_t xstride, const float *sums, intptr_t sstride,
                          intptr_t rows, intptr_t groups, float *out, intptr_t ostride);
void loupe_avx2_dots_q8_0(const void *row, const float *x, intptr_t xstride, const float *sums, intptr_t sstride,
                          intptr_t rows, intptr_t groups, float *out, intptr_t ostride);
void loupe_avx2_dots_q4_K(const void *row, const float *x, intptr_t xstride, const float *sums, intptr_t sstride,
                          intptr_t rows, intptr_t groups, float *out, intptr_t ostride);

/// Tile kernels: `groups` 32-element groups dequantized into `dst` in file order, with the
/// operations of Formats' `Dequantize` (no FMA contraction), so bit-identical to it.
void loupe_avx2_tile_q8_0(const void *src, float *dst, intptr_t groups);
void loupe_avx2_tile_q4_0(const void *src, float *dst, intptr_t groups);
void loupe_avx2_tile_q4_1(const void *src, float *dst, intptr_t groups);
void loupe_avx2_tile_q5_0(const void *src, float *dst, intptr_t groups);
void loupe_avx2_tile_q5_1(const void *src, float *dst, intptr_t groups);
void loupe_avx2_tile_q4_K(const void *src, float *dst, intptr_t groups);
void loupe_avx2_tile_q5_K(const void *src, float *dst, intptr_t groups);
void loupe_avx2_tile_q6_K(const void *src, float *dst, intptr_t groups);
void loupe_avx2_tile_f16(const void *src, float *dst, intptr_t groups);
void loupe_avx2_tile_bf16(const void *src, float *dst, intptr_t groups);

/// Elementwise kernels (Linalg's `Kernels`). Each returns or reports (`done`) how many leading
/// elements it handled, in whole groups of eight; the caller finishes the rest.
/// gate[i] = gate[i] / (1 + exp(-gate[i])) * up[i], bit-identical to `Kernels.swiGLU`.
intptr_t loupe_avx2_swiglu(float *gate, const float *up, intptr_t count);
/// dst[0..<count] = src[0..<count] with non-temporal stores (copies that are not read again
/// soon, such as captured activations, do not push the working set out of the caches).
void loupe_avx2_stream_copy(const float *src, float *dst, intptr_t count);
/// The largest of x[0..<done] (NaNs ignored), done = count rounded down to eight.
float loupe_avx2_max(const float *x, intptr_t count, intptr_t *done);
/// The sum of exp(x[i] - shift) over x[0..<done]: eight float lanes per block of `block`
/// elements, the lanes added into a double in order (`Kernels.sumExp`'s order, bit-identical).
double loupe_avx2_exp_sum(const float *x, intptr_t count, float shift, intptr_t block, intptr_t *done);
/// Softmax of x[0..<valid] in place (exponentials as `Kernels.exp8`), x[valid..<width] zeroed.
void loupe_avx2_softmax_row(float *x, intptr_t valid, intptr_t width);
/// One head's rotary embedding: v[i], v[half + i] rotated by cos c[i] and sin s[i].
void loupe_avx2_rope(float *v, const float *c, const float *s, intptr_t half);
/// Causal attention scores and weighted values of one head (`Kernels.scoresCausal` and
/// `Kernels.weightedSum`), dot products with FMA in eight lanes.
void loupe_avx2_scores_causal(const float *q, intptr_t q_stride, const float *k, intptr_t k_stride,
                              intptr_t rows, intptr_t past, intptr_t width, float scale,
                              float *out, intptr_t out_stride);
void loupe_avx2_weighted_sum(const float *p, intptr_t p_stride, const float *v, intptr_t v_stride,
                             intptr_t rows, intptr_t past, intptr_t width,
                             float *out, intptr_t out_stride);

/// The AVX-512 product c[m x n] = a[m x k] · w[n x k]ᵀ (row-major; `gemm_avx512.c`, compiled
/// for `avx512f`: call only when `loupe_cpu_has_avx512()` returned 1). `a` is packed once by
/// `loupe_avx512_pack_rows` (panels p0..<p1; ranges may be packed on different threads) into
/// `packed`, which holds `loupe_gemm_panels(m) * 12 * k` floats;
/// `loupe_avx512_gemm_nt` then writes columns jb..<je of c (rows of w), using `scratch` of
/// 32 * loupe_gemm_depth(k) floats. Disjoint column ranges may run on different threads at
/// once (each with its own scratch); each element is the same float32 sum whatever the split.
#define LOUPE_GEMM_PANEL_ROWS 12
#define LOUPE_GEMM_PANEL_COLUMNS 32
#define LOUPE_GEMM_MAX_DEPTH 2048
intptr_t loupe_gemm_panels(intptr_t m);
/// Depth of the slices of k the product works in: all of k up to LOUPE_GEMM_MAX_DEPTH, else
/// nearly equal slices (multiples of 256) no deeper than that.
intptr_t loupe_gemm_depth(intptr_t k);
/// `steps` x 24 independent AVX-512 multiply-adds (the core's FMA rate, for benchmarks).
float loupe_avx512_fma_loop(intptr_t steps);
void loupe_avx512_pack_rows(const float *a, intptr_t m, intptr_t k, intptr_t lda, float *packed, intptr_t p0, intptr_t p1);
void loupe_avx512_gemm_nt(const float *packed, intptr_t m, intptr_t k, const float *w, intptr_t ldw,
                          intptr_t jb, intptr_t je, float *c, intptr_t ldc, float *scratch);
/// The same product with `w` a matrix of GGUF blocks of `format` (`rowBytes` per row; k a
/// multiple of the block size, and of 32), each slice dequantized into the panel as
/// `Dequantize` computes it: the result equals the product from a dequantized tile bit for bit,
/// without writing the tile.
enum {
    LOUPE_BLOCKS_Q8_0 = 1, LOUPE_BLOCKS_Q4_0 = 2, LOUPE_BLOCKS_Q4_1 = 3, LOUPE_BLOCKS_Q5_0 = 4, LOUPE_BLOCKS_Q5_1 = 5,
    LOUPE_BLOCKS_Q4_K = 6, LOUPE_BLOCKS_Q5_K = 7, LOUPE_BLOCKS_Q6_K = 8, LOUPE_BLOCKS_F16 = 9, LOUPE_BLOCKS_BF16 = 10
};
void loupe_avx512_gemm_nt_blocks(const float *packed, intptr_t m, intptr_t k, const void *w, intptr_t rowBytes,
                                 int format, intptr_t jb, intptr_t je, float *c, intptr_t ldc, float *scratch);

#ifdef __cplusplus
}
#endif

#endif
