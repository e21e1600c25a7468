// CKernels: AVX2/FMA/F16C kernels for GGUF weights read in place, chosen at run time.
//
// Only Formats imports this module (scripts/check-layers.sh); Swift code reaches it through
// Formats' `KernelSet`, `RowDot` and `QuantizedMatrix`. Every kernel is compiled with
// `__attribute__((target("avx2,fma,f16c")))`, so the rest of the binary keeps the x86-64
// baseline: call a kernel only when `loupe_cpu_has_avx2()` returned 1 (on other
// architectures it returns 0 and the kernels are stubs that trap).
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

#ifdef __cplusplus
}
#endif

#endif
