// Y = X·Wᵀ for weights in f32, f16, bf16, Q8_0 or Q4_0 (GGUF block layouts): the C twin of
// Sources/RWKV/Kernels/WeightProduct.swift and WeightDecode.swift.
//
// One token is memory-bound: stream each row once, decode 8 lanes at a time into four FMA
// accumulators (`dot_plain`, `dot_blocks`). A few tokens (batched decode): W is decoded to fp32 once
// per tile of TILE_ROWS rows × KC columns (L2-sized), then a 4-token × 3-row register block
// (12 accumulators) runs over it in dot-product form. Many tokens (prefill) are a GEMM: W is decoded
// into packed panels of 16 rows × KC_PACKED columns (column-major inside the panel, 32 KB) and a
// 6-token × 16-row outer-product micro-kernel (12 accumulators, per column 2 panel loads and 6
// broadcasts: 15 registers, so nothing spills) runs over it. In every case each (token, row) sum has one accumulator lane and a fixed
// order (columns in order inside a chunk, chunks added in order), so results do not depend on how
// rows are split between threads or grouped into blocks.

#include "CRWKVKernels.h"
#include "native.h"

#if defined(__x86_64__)
#include <stdlib.h>

enum { TILE_ROWS = 32, KC = 512, PANEL = RWKV_PANEL_ROWS, KC_PACKED = 512, MR = 6 };

// MARK: Decoding

/// Eight consecutive weights c..c+7 of a plain-format row (c a multiple of 8).
NATIVE INLINE __m256 load8(int format, const uint8_t *row, size_t c) {
    switch (format) {
    case RWKV_FORMAT_F32: return _mm256_loadu_ps((const float *)(row + 4 * c));
    case RWKV_FORMAT_F16: return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * c)));
    default: {  // bf16 is the high half of an fp32: widen and shift
        __m256i u = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(row + 2 * c)));
        return _mm256_castsi256_ps(_mm256_slli_epi32(u, 16));
    }
    }
}

/// Weight c of a plain-format row, scalar (ragged column tails).
NATIVE INLINE float load1(int format, const uint8_t *row, size_t c) {
    switch (format) {
    case RWKV_FORMAT_F32: return load_f32(row + 4 * c);
    case RWKV_FORMAT_F16: return half_to_float(load_u16(row + 2 * c));
    default: { uint32_t u = (uint32_t)load_u16(row + 2 * c) << 16; float f; memcpy(&f, &u, 4); return f; }
    }
}

/// The 32 quants of a block as integers in four 8-lane vectors (unscaled; Q4_0 already minus 8).
NATIVE INLINE void block_quants(int format, const uint8_t *block, __m256 q[4]) {
    if (format == RWKV_FORMAT_Q8_0) {
        for (int i = 0; i < 4; i++) {
            __m128i b = _mm_loadl_epi64((const __m128i *)(block + 2 + 8 * i));
            q[i] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
        }
        return;
    }
    // Q4_0: byte i holds element i (low nibble) and element i + 16 (high nibble).
    __m128i bytes = _mm_loadu_si128((const __m128i *)(block + 2));
    __m128i mask = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
    __m128i lo = _mm_sub_epi8(_mm_and_si128(bytes, mask), eight);
    __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(bytes, 4), mask), eight);
    q[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo));
    q[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)));
    q[2] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi));
    q[3] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)));
}

INLINE size_t block_bytes(int format) { return format == RWKV_FORMAT_Q8_0 ? 34 : 18; }
INLINE int is_block_format(int format) { return format == RWKV_FORMAT_Q8_0 || format == RWKV_FORMAT_Q4_0; }

/// Weights c0..<c1 of a row decoded to fp32 at `out` (exact: q·d fits a float's mantissa).
/// For block formats c0 and c1 are multiples of 32. Mirrors `decodeRow` (WeightProduct.swift).
NATIVE INLINE void decode_range(int format, const uint8_t *row, size_t c0, size_t c1, float *out) {
    size_t c = c0;
    if (is_block_format(format)) {
        for (; c < c1; c += 32) {
            const uint8_t *block = row + (c / 32) * block_bytes(format);
            __m256 d = _mm256_set1_ps(half_to_float(load_u16(block))), q[4];
            block_quants(format, block, q);
            for (int i = 0; i < 4; i++) _mm256_storeu_ps(out + c - c0 + 8 * i, _mm256_mul_ps(q[i], d));
        }
        return;
    }
    for (; c + 8 <= c1; c += 8) _mm256_storeu_ps(out + c - c0, load8(format, row, c));
    for (; c < c1; c++) out[c - c0] = load1(format, row, c);
}

/// `decode_range` with the format switch taken once per call.
NATIVE static void decode_any(int format, const uint8_t *row, size_t c0, size_t c1, float *out);

// MARK: One token

/// Row · x for a plain format: four accumulators over 32 elements, one horizontal sum. Mirrors `dot1`.
NATIVE INLINE float dot_plain(int format, const uint8_t *row, const float *x, size_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t c = 0;
    for (; c + 32 <= n; c += 32) {
        a0 = _mm256_fmadd_ps(load8(format, row, c), _mm256_loadu_ps(x + c), a0);
        a1 = _mm256_fmadd_ps(load8(format, row, c + 8), _mm256_loadu_ps(x + c + 8), a1);
        a2 = _mm256_fmadd_ps(load8(format, row, c + 16), _mm256_loadu_ps(x + c + 16), a2);
        a3 = _mm256_fmadd_ps(load8(format, row, c + 24), _mm256_loadu_ps(x + c + 24), a3);
    }
    for (; c + 8 <= n; c += 8) a0 = _mm256_fmadd_ps(load8(format, row, c), _mm256_loadu_ps(x + c), a0);
    float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; c < n; c++) s += load1(format, row, c) * x[c];
    return s;
}

/// Row · x for a block format: Σ_b d_b · Σ_i q_i·x_i, the scale applied once per block.
/// Mirrors `DecodeQ8_0.dot` / `DecodeQ4_0.dot`.
NATIVE INLINE float dot_blocks(int format, const uint8_t *row, const float *x, size_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
    for (size_t b = 0; b < n / 32; b++) {
        const uint8_t *block = row + b * block_bytes(format);
        const float *xb = x + 32 * b;
        __m256 q[4];
        block_quants(format, block, q);
        __m256 s = _mm256_mul_ps(q[0], _mm256_loadu_ps(xb));
        __m256 u = _mm256_mul_ps(q[1], _mm256_loadu_ps(xb + 8));
        s = _mm256_fmadd_ps(q[2], _mm256_loadu_ps(xb + 16), s);
        u = _mm256_fmadd_ps(q[3], _mm256_loadu_ps(xb + 24), u);
        __m256 d = _mm256_set1_ps(half_to_float(load_u16(block)));
        if (b & 1) acc1 = _mm256_fmadd_ps(_mm256_add_ps(s, u), d, acc1);
        else acc0 = _mm256_fmadd_ps(_mm256_add_ps(s, u), d, acc0);
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}

NATIVE INLINE void product_one_token(int format, const uint8_t *w, size_t row_bytes, size_t cols, const float *x,
                                     float *y, size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *row = w + r * row_bytes;
        y[r] = is_block_format(format) ? dot_blocks(format, row, x, cols) : dot_plain(format, row, x, cols);
    }
}

// MARK: Several tokens

/// NT tokens (x rows `xs` apart) × NR decoded rows (`ws` apart) over n columns, one accumulator
/// each; the sums are stored into y (`ys` apart per token) or added to it.
NATIVE INLINE void block_nt_nr(int nt, int nr, const float *x, size_t xs, const float *w, size_t ws, size_t n,
                               float *y, size_t ys, int add) {
    __m256 acc[4][3];
    for (int t = 0; t < nt; t++)
        for (int r = 0; r < nr; r++) acc[t][r] = _mm256_setzero_ps();
    size_t c = 0;
    for (; c + 8 <= n; c += 8) {
        __m256 wv[3];
        for (int r = 0; r < nr; r++) wv[r] = _mm256_loadu_ps(w + r * ws + c);
        for (int t = 0; t < nt; t++) {
            __m256 xv = _mm256_loadu_ps(x + t * xs + c);
            for (int r = 0; r < nr; r++) acc[t][r] = _mm256_fmadd_ps(xv, wv[r], acc[t][r]);
        }
    }
    for (int t = 0; t < nt; t++) {
        for (int r = 0; r < nr; r++) {
            float s = hsum(acc[t][r]);
            for (size_t cc = c; cc < n; cc++) s += x[t * xs + cc] * w[r * ws + cc];
            y[t * ys + r] = add ? y[t * ys + r] + s : s;
        }
    }
}

/// One group of NT tokens against `nrows` decoded rows: blocks of three rows, then single rows.
NATIVE INLINE void token_group(int nt, const float *x, size_t xs, const float *tile, size_t n, size_t nrows,
                               float *y, size_t ys, int add) {
    size_t r = 0;
    for (; r + 3 <= nrows; r += 3) block_nt_nr(nt, 3, x, xs, tile + r * n, n, n, y + r, ys, add);
    for (; r < nrows; r++) block_nt_nr(nt, 1, x, xs, tile + r * n, n, n, y + r, ys, add);
}

NATIVE static void product_tokens(int format, const uint8_t *w, size_t row_bytes, size_t rows, size_t cols,
                                  const float *x, size_t tokens, float *y, size_t r0, size_t r1) {
    float *tile = malloc(sizeof(float) * TILE_ROWS * KC);
    if (!tile) abort();
    for (size_t t0 = r0; t0 < r1; t0 += TILE_ROWS) {
        size_t nrows = r1 - t0 < TILE_ROWS ? r1 - t0 : TILE_ROWS;
        for (size_t c0 = 0; c0 < cols; c0 += KC) {
            size_t n = cols - c0 < KC ? cols - c0 : KC;
            for (size_t i = 0; i < nrows; i++) decode_any(format, w + (t0 + i) * row_bytes, c0, c0 + n, tile + i * n);
            const int add = c0 > 0;
            size_t t = 0;
            for (; t + 4 <= tokens; t += 4)
                token_group(4, x + t * cols + c0, cols, tile, n, nrows, y + t * rows + t0, rows, add);
            for (; t < tokens; t++)
                token_group(1, x + t * cols + c0, cols, tile, n, nrows, y + t * rows + t0, rows, add);
        }
    }
    free(tile);
}

// MARK: Many tokens: packed panels

/// Rows p0..<p0+nrows, columns c0..<c0+n, decoded into `panel` as n groups of PANEL floats (one per
/// column, rows consecutive); rows past nrows are zero.
NATIVE static void pack_panel(int format, const uint8_t *w, size_t row_bytes, size_t p0, size_t nrows, size_t c0,
                              size_t n, float *row, float *panel) {
    for (size_t i = 0; i < PANEL; i++) {
        if (i < nrows) decode_any(format, w + (p0 + i) * row_bytes, c0, c0 + n, row);
        for (size_t k = 0; k < n; k++) panel[k * PANEL + i] = i < nrows ? row[k] : 0;
    }
}

/// MR tokens (x rows `xs` apart) × one panel over n columns; the first `nvalid` rows are stored
/// into y (`ys` apart per token) or added to it.
NATIVE INLINE void panel_block(int mr, const float *x, size_t xs, const float *panel, size_t n, float *y, size_t ys,
                               size_t nvalid, int add) {
    __m256 acc[MR][2];
    for (int t = 0; t < mr; t++) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
    for (size_t k = 0; k < n; k++) {
        const __m256 b0 = _mm256_loadu_ps(panel + k * PANEL), b1 = _mm256_loadu_ps(panel + k * PANEL + 8);
        for (int t = 0; t < mr; t++) {
            const __m256 a = _mm256_broadcast_ss(x + t * xs + k);
            acc[t][0] = _mm256_fmadd_ps(a, b0, acc[t][0]);
            acc[t][1] = _mm256_fmadd_ps(a, b1, acc[t][1]);
        }
    }
    for (int t = 0; t < mr; t++) {
        float *yt = y + t * ys;
        if (nvalid == PANEL) {
            for (int j = 0; j < 2; j++) {
                __m256 v = add ? _mm256_add_ps(acc[t][j], _mm256_loadu_ps(yt + 8 * j)) : acc[t][j];
                _mm256_storeu_ps(yt + 8 * j, v);
            }
        } else {
            float lanes[PANEL];
            for (int j = 0; j < 2; j++) _mm256_storeu_ps(lanes + 8 * j, acc[t][j]);
            for (size_t i = 0; i < nvalid; i++) yt[i] = add ? yt[i] + lanes[i] : lanes[i];
        }
    }
}

NATIVE static void product_packed(int format, const uint8_t *w, size_t row_bytes, size_t rows, size_t cols,
                                  const float *x, size_t tokens, float *y, size_t r0, size_t r1) {
    float *panel = malloc(sizeof(float) * (PANEL + 1) * KC_PACKED), *row = panel + PANEL * KC_PACKED;
    if (!panel) abort();
    for (size_t p0 = r0; p0 < r1; p0 += PANEL) {
        const size_t nvalid = r1 - p0 < PANEL ? r1 - p0 : PANEL;
        for (size_t c0 = 0; c0 < cols; c0 += KC_PACKED) {
            const size_t n = cols - c0 < KC_PACKED ? cols - c0 : KC_PACKED;
            pack_panel(format, w, row_bytes, p0, nvalid, c0, n, row, panel);
            const int add = c0 > 0;
            const float *xc = x + c0;
            float *yp = y + p0;
            size_t t = 0;
            for (; t + MR <= tokens; t += MR) panel_block(MR, xc + t * cols, cols, panel, n, yp + t * rows, rows, nvalid, add);
#define TAIL(m) panel_block(m, xc + t * cols, cols, panel, n, yp + t * rows, rows, nvalid, add)
            switch (tokens - t) {
            case 5: TAIL(5); break;
            case 4: TAIL(4); break;
            case 3: TAIL(3); break;
            case 2: TAIL(2); break;
            case 1: TAIL(1); break;
            }
#undef TAIL
        }
    }
    free(panel);
}

// MARK: Entry points (one specialised copy per format)

#define FOR_EACH_FORMAT(format, CALL)                        \
    switch (format) {                                        \
    case RWKV_FORMAT_F32: CALL(RWKV_FORMAT_F32); break;      \
    case RWKV_FORMAT_F16: CALL(RWKV_FORMAT_F16); break;      \
    case RWKV_FORMAT_BF16: CALL(RWKV_FORMAT_BF16); break;    \
    case RWKV_FORMAT_Q8_0: CALL(RWKV_FORMAT_Q8_0); break;    \
    case RWKV_FORMAT_Q4_0: CALL(RWKV_FORMAT_Q4_0); break;    \
    }

NATIVE void rwkv_product_rows(int format, const void *w, size_t row_bytes, size_t rows, size_t cols,
                              const float *x, size_t tokens, float *y, size_t r0, size_t r1) {
    if (tokens == 1) {
#define ONE(F) product_one_token(F, w, row_bytes, cols, x, y, r0, r1)
        FOR_EACH_FORMAT(format, ONE)
#undef ONE
    } else if (tokens < RWKV_PACKED_MIN_TOKENS) {
        product_tokens(format, w, row_bytes, rows, cols, x, tokens, y, r0, r1);
    } else {
        product_packed(format, w, row_bytes, rows, cols, x, tokens, y, r0, r1);
    }
}

NATIVE static void decode_any(int format, const uint8_t *row, size_t c0, size_t c1, float *out) {
#define DECODE(F) decode_range(F, row, c0, c1, out)
    FOR_EACH_FORMAT(format, DECODE)
#undef DECODE
}

NATIVE void rwkv_decode_row(int format, const void *row, size_t cols, float *out) { decode_any(format, row, 0, cols, out); }

#else  // not x86_64: never called (rwkv_native_kernels() is 0); the Swift kernels run instead.

void rwkv_product_rows(int format, const void *w, size_t row_bytes, size_t rows, size_t cols, const float *x,
                       size_t tokens, float *y, size_t r0, size_t r1) {}
void rwkv_decode_row(int format, const void *row, size_t cols, float *out) {}

#endif
