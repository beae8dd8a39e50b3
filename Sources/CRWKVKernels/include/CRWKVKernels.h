// Hot inference kernels in C, so the fast paths get AVX2/FMA/F16C code generation through per-function
// `target` attributes instead of package-wide compiler flags (which SwiftPM refuses in dependencies).
//
// Every kernel has a Swift twin that stays the portable path (arm64, CPUs without AVX2, and the
// `RWKV_PORTABLE_KERNELS=1` switch). Call a kernel only when `rwkv_native_kernels()` returns 1;
// on other machines the functions are empty stubs. Threading stays in Swift: each call works on a
// range of rows or heads and writes only that range's outputs.

#ifndef CRWKV_KERNELS_H
#define CRWKV_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Storage formats, in the order of Swift's `WeightFormat` (Tensor/WeightFormat.swift).
enum {
    RWKV_FORMAT_F32 = 0,
    RWKV_FORMAT_F16 = 1,
    RWKV_FORMAT_BF16 = 2,
    RWKV_FORMAT_Q8_0 = 3,
    RWKV_FORMAT_Q4_0 = 4,
};

/// From this many tokens on, `rwkv_product_rows` runs as a packed GEMM on panels of this many rows
/// (callers splitting rows over threads should split on panel boundaries).
enum { RWKV_PACKED_MIN_TOKENS = 16, RWKV_PANEL_ROWS = 16 };

/// 1 when this CPU (and OS) can run the AVX2/FMA/F16C kernels, else 0.
int rwkv_native_kernels(void);

/// Y[t·rows + r] = Σ_c W[r, c] · X[t·cols + c] for rows r0 ≤ r < r1 and every token t < tokens.
/// Row r of W starts at `w + r·row_bytes`, in `format`. Mirrors `productRows` (WeightProduct.swift).
void rwkv_product_rows(int format, const void *w, size_t row_bytes, size_t rows, size_t cols,
                       const float *x, size_t tokens, float *y, size_t r0, size_t r1);

/// `cols` weights of one row in `format` decoded to fp32 (exact). Mirrors `decodeRow`.
void rwkv_decode_row(int format, const void *row, size_t cols, float *out);

/// C[i, :] (+)= A[i, :]·B for i0 ≤ i < i1; A (m×k), B (k×n), C (m×n), row-major and contiguous.
/// Mirrors `gemmRows` (Training/TrainingScalar.swift); also serves `vecmat`.
void rwkv_gemm_rows(const float *a, const float *b, float *c, size_t i0, size_t i1, size_t n, size_t k,
                    int accumulate);

/// The WKV7 recurrence (Kernels/WKV7.swift) for heads h0 ≤ h < h1 over all tokens, N % 8 == 0.
void rwkv_wkv7_heads(size_t tokens, size_t heads, size_t n, const float *r, const float *w, const float *k,
                     const float *v, const float *a, const float *b, float *state, float *out, size_t h0, size_t h1);

/// The WKV5/6 recurrence (Kernels/WKV6.swift) for heads h0 ≤ h < h1 over all tokens, N % 8 == 0.
void rwkv_wkv6_heads(size_t tokens, size_t heads, size_t n, const float *r, const float *w, const float *k,
                     const float *v, const float *u, float *state, float *out, size_t h0, size_t h1);

#ifdef __cplusplus
}
#endif

#endif
