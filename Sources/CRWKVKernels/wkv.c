// The WKV7 and WKV5/6 state recurrences, 8 lanes at a time: the C twins of
// Sources/RWKV/Kernels/WKV7.swift (`wkv7`) and WKV6.swift (`wkv6`), same equations, same order.
// Inputs are (T, C) with C = H·N, head-major; the state is H blocks of N×N floats.

#include "CRWKVKernels.h"
#include "native.h"

#if defined(__x86_64__)

// RWKV-7, S[i = value][j = key]:
//   sa_i = Σ_j S_ij·a_j;  S_ij ← S_ij·w_j + sa_i·b_j + v_i·k_j;  out_i = Σ_j S_ij·r_j
NATIVE void rwkv_wkv7_heads(size_t tokens, size_t heads, size_t n, const float *r, const float *w, const float *k,
                            const float *v, const float *a, const float *b, float *state, float *out, size_t h0,
                            size_t h1) {
    const size_t c = heads * n;
    for (size_t t = 0; t < tokens; t++) {
        for (size_t h = h0; h < h1; h++) {
            const size_t base = t * c + h * n;
            float *s = state + h * n * n;
            for (size_t i = 0; i < n; i++) {
                float *row = s + i * n;
                __m256 acc = _mm256_setzero_ps();
                for (size_t j = 0; j < n; j += 8)
                    acc = _mm256_fmadd_ps(_mm256_loadu_ps(row + j), _mm256_loadu_ps(a + base + j), acc);
                const __m256 sa = _mm256_set1_ps(hsum(acc)), vi = _mm256_set1_ps(v[base + i]);
                __m256 o = _mm256_setzero_ps();
                for (size_t j = 0; j < n; j += 8) {
                    __m256 e = _mm256_mul_ps(_mm256_loadu_ps(row + j), _mm256_loadu_ps(w + base + j));
                    e = _mm256_fmadd_ps(sa, _mm256_loadu_ps(b + base + j), e);
                    e = _mm256_fmadd_ps(vi, _mm256_loadu_ps(k + base + j), e);
                    _mm256_storeu_ps(row + j, e);
                    o = _mm256_fmadd_ps(e, _mm256_loadu_ps(r + base + j), o);
                }
                out[base + i] = hsum(o);
            }
        }
    }
}

// RWKV-5.2/6, S[i = key][j = value]:
//   out_j = Σ_i r_i·(u_i·k_i·v_j + S_ij);  S_ij ← w_i·S_ij + k_i·v_j
NATIVE void rwkv_wkv6_heads(size_t tokens, size_t heads, size_t n, const float *r, const float *w, const float *k,
                            const float *v, const float *u, float *state, float *out, size_t h0, size_t h1) {
    const size_t c = heads * n;
    for (size_t t = 0; t < tokens; t++) {
        for (size_t h = h0; h < h1; h++) {
            const size_t base = t * c + h * n;
            float *s = state + h * n * n, *o = out + base;
            const float *vb = v + base;
            for (size_t j = 0; j < n; j += 8) _mm256_storeu_ps(o + j, _mm256_setzero_ps());
            for (size_t i = 0; i < n; i++) {
                const float ri = r[base + i], ki = k[base + i];
                const __m256 ruk = _mm256_set1_ps(ri * u[h * n + i] * ki), r8 = _mm256_set1_ps(ri);
                const __m256 k8 = _mm256_set1_ps(ki), w8 = _mm256_set1_ps(w[base + i]);
                float *row = s + i * n;
                for (size_t j = 0; j < n; j += 8) {
                    const __m256 v8 = _mm256_loadu_ps(vb + j), s8 = _mm256_loadu_ps(row + j);
                    __m256 o8 = _mm256_fmadd_ps(ruk, v8, _mm256_loadu_ps(o + j));
                    o8 = _mm256_fmadd_ps(r8, s8, o8);
                    _mm256_storeu_ps(o + j, o8);
                    _mm256_storeu_ps(row + j, _mm256_fmadd_ps(k8, v8, _mm256_mul_ps(w8, s8)));
                }
            }
        }
    }
}

#else

void rwkv_wkv7_heads(size_t tokens, size_t heads, size_t n, const float *r, const float *w, const float *k,
                     const float *v, const float *a, const float *b, float *state, float *out, size_t h0, size_t h1) {}
void rwkv_wkv6_heads(size_t tokens, size_t heads, size_t n, const float *r, const float *w, const float *k,
                     const float *v, const float *u, float *state, float *out, size_t h0, size_t h1) {}

#endif
