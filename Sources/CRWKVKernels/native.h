// Shared helpers of the AVX2/FMA/F16C kernels (private to the C target).
//
// Only functions marked NATIVE may use the intrinsics; they are called only after
// `rwkv_native_kernels()` said yes. INLINE helpers are forced inline so that a constant format
// or tile size passed to them yields one specialised loop per case.

#ifndef CRWKV_NATIVE_H
#define CRWKV_NATIVE_H

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define NATIVE __attribute__((target("avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

/// Sum of the eight lanes: halves, then pairs, then the last two.
NATIVE INLINE float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// Unaligned scalar loads (rows of a memory-mapped file may sit at any byte offset).
INLINE float load_f32(const uint8_t *p) { float f; memcpy(&f, p, 4); return f; }
INLINE uint16_t load_u16(const uint8_t *p) { uint16_t u; memcpy(&u, p, 2); return u; }

NATIVE INLINE float half_to_float(uint16_t h) { return _cvtsh_ss(h); }
#endif

#endif
