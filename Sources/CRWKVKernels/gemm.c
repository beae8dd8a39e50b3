// C (+)= A·B for row-major fp32 A (m×k), B (k×n), C (m×n) over a range of C's rows: the C twin of
// `gemmRows` (Sources/RWKV/Training/TrainingScalar.swift), used by training and by `vecmat`
// (low-rank products). 6×16 register tiles (12 accumulators, per k: 2 loads of B, 6 broadcasts of
// A); every C element is one FMA lane summed over p in order, so results do not depend on tiling.

#include "CRWKVKernels.h"
#include "native.h"

#if defined(__x86_64__)

/// MR rows × 16 columns of C starting at (i, j).
NATIVE INLINE void tile16(int mr, const float *a, const float *b, float *c, size_t i, size_t j, size_t n, size_t k,
                          int accumulate) {
    __m256 acc[6][2];
    for (int r = 0; r < mr; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    const float *ai = a + i * k;
    for (size_t p = 0; p < k; p++) {
        const __m256 b0 = _mm256_loadu_ps(b + p * n + j), b1 = _mm256_loadu_ps(b + p * n + j + 8);
        for (int r = 0; r < mr; r++) {
            const __m256 x = _mm256_broadcast_ss(ai + r * k + p);
            acc[r][0] = _mm256_fmadd_ps(x, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(x, b1, acc[r][1]);
        }
    }
    for (int r = 0; r < mr; r++) {
        float *cr = c + (i + r) * n + j;
        if (accumulate) {
            acc[r][0] = _mm256_add_ps(acc[r][0], _mm256_loadu_ps(cr));
            acc[r][1] = _mm256_add_ps(acc[r][1], _mm256_loadu_ps(cr + 8));
        }
        _mm256_storeu_ps(cr, acc[r][0]);
        _mm256_storeu_ps(cr + 8, acc[r][1]);
    }
}

/// One row × 8 columns (the strip left over after the 16-wide ones).
NATIVE INLINE void tile8(const float *a, const float *b, float *c, size_t i, size_t j, size_t n, size_t k,
                         int accumulate) {
    __m256 acc = _mm256_setzero_ps();
    for (size_t p = 0; p < k; p++) acc = _mm256_fmadd_ps(_mm256_broadcast_ss(a + i * k + p), _mm256_loadu_ps(b + p * n + j), acc);
    float *cr = c + i * n + j;
    if (accumulate) acc = _mm256_add_ps(acc, _mm256_loadu_ps(cr));
    _mm256_storeu_ps(cr, acc);
}

NATIVE void rwkv_gemm_rows(const float *a, const float *b, float *c, size_t i0, size_t i1, size_t n, size_t k,
                           int accumulate) {
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        size_t i = i0;
        for (; i + 6 <= i1; i += 6) tile16(6, a, b, c, i, j, n, k, accumulate);
        switch (i1 - i) {  // leftover rows in one narrower tile
        case 5: tile16(5, a, b, c, i, j, n, k, accumulate); break;
        case 4: tile16(4, a, b, c, i, j, n, k, accumulate); break;
        case 3: tile16(3, a, b, c, i, j, n, k, accumulate); break;
        case 2: tile16(2, a, b, c, i, j, n, k, accumulate); break;
        case 1: tile16(1, a, b, c, i, j, n, k, accumulate); break;
        }
    }
    if (j + 8 <= n) {
        for (size_t i = i0; i < i1; i++) tile8(a, b, c, i, j, n, k, accumulate);
        j += 8;
    }
    for (size_t i = i0; i < i1; i++) {  // ragged columns
        for (size_t jj = j; jj < n; jj++) {
            float s = 0;
            for (size_t p = 0; p < k; p++) s += a[i * k + p] * b[p * n + jj];
            c[i * n + jj] = accumulate ? c[i * n + jj] + s : s;
        }
    }
}

#else

void rwkv_gemm_rows(const float *a, const float *b, float *c, size_t i0, size_t i1, size_t n, size_t k,
                    int accumulate) {}

#endif
