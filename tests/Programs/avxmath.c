// Vector arithmetic with the accumulators live in SSE/AVX registers across a tight loop: a checkpoint that lands
// mid-loop must restore the full xstate (ymm upper halves included) or the results change.
// The AVX2 path (chosen when the CPU has it) and the SSE2 fallback do the same per-lane IEEE operations in the same
// order, so both print identical numbers. Built with -ffp-contract=off so no FMA fusion changes rounding.
// usage: avxmath [BLOCKS=40] [ITERATIONS_PER_BLOCK=4000000]
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  double x[8];
  uint64_t k[8];
} lanes_t;

__attribute__((target("avx2"))) static void run_avx2(lanes_t *state, long iterations) {
  __m256d x0 = _mm256_loadu_pd(&state->x[0]), x1 = _mm256_loadu_pd(&state->x[4]);
  __m256i k0 = _mm256_loadu_si256((const __m256i *)&state->k[0]);
  __m256i k1 = _mm256_loadu_si256((const __m256i *)&state->k[4]);
  const __m256d scale = _mm256_set1_pd(0.999999), bias = _mm256_set1_pd(0.5), half = _mm256_set1_pd(0.5);
  for (long i = 0; i < iterations; i++) {
    x0 = _mm256_add_pd(_mm256_mul_pd(x0, scale), bias);
    x1 = _mm256_add_pd(_mm256_mul_pd(_mm256_sqrt_pd(x1), half), x0);
    k0 = _mm256_xor_si256(k0, _mm256_slli_epi64(k0, 13));
    k0 = _mm256_xor_si256(k0, _mm256_srli_epi64(k0, 7));
    k0 = _mm256_xor_si256(k0, _mm256_slli_epi64(k0, 17));
    k1 = _mm256_add_epi64(k1, k0);
  }
  _mm256_storeu_pd(&state->x[0], x0);
  _mm256_storeu_pd(&state->x[4], x1);
  _mm256_storeu_si256((__m256i *)&state->k[0], k0);
  _mm256_storeu_si256((__m256i *)&state->k[4], k1);
}

static void run_sse2(lanes_t *state, long iterations) {
  __m128d xa = _mm_loadu_pd(&state->x[0]), xb = _mm_loadu_pd(&state->x[2]);
  __m128d ya = _mm_loadu_pd(&state->x[4]), yb = _mm_loadu_pd(&state->x[6]);
  __m128i ka = _mm_loadu_si128((const __m128i *)&state->k[0]), kb = _mm_loadu_si128((const __m128i *)&state->k[2]);
  __m128i ja = _mm_loadu_si128((const __m128i *)&state->k[4]), jb = _mm_loadu_si128((const __m128i *)&state->k[6]);
  const __m128d scale = _mm_set1_pd(0.999999), bias = _mm_set1_pd(0.5), half = _mm_set1_pd(0.5);
  for (long i = 0; i < iterations; i++) {
    xa = _mm_add_pd(_mm_mul_pd(xa, scale), bias);
    xb = _mm_add_pd(_mm_mul_pd(xb, scale), bias);
    ya = _mm_add_pd(_mm_mul_pd(_mm_sqrt_pd(ya), half), xa);
    yb = _mm_add_pd(_mm_mul_pd(_mm_sqrt_pd(yb), half), xb);
    ka = _mm_xor_si128(ka, _mm_slli_epi64(ka, 13));
    kb = _mm_xor_si128(kb, _mm_slli_epi64(kb, 13));
    ka = _mm_xor_si128(ka, _mm_srli_epi64(ka, 7));
    kb = _mm_xor_si128(kb, _mm_srli_epi64(kb, 7));
    ka = _mm_xor_si128(ka, _mm_slli_epi64(ka, 17));
    kb = _mm_xor_si128(kb, _mm_slli_epi64(kb, 17));
    ja = _mm_add_epi64(ja, ka);
    jb = _mm_add_epi64(jb, kb);
  }
  _mm_storeu_pd(&state->x[0], xa);
  _mm_storeu_pd(&state->x[2], xb);
  _mm_storeu_pd(&state->x[4], ya);
  _mm_storeu_pd(&state->x[6], yb);
  _mm_storeu_si128((__m128i *)&state->k[0], ka);
  _mm_storeu_si128((__m128i *)&state->k[2], kb);
  _mm_storeu_si128((__m128i *)&state->k[4], ja);
  _mm_storeu_si128((__m128i *)&state->k[6], jb);
}

static uint64_t bits(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

int main(int argc, char **argv) {
  int blocks = argc > 1 ? atoi(argv[1]) : 40;
  long iterations = argc > 2 ? atol(argv[2]) : 4000000;
  lanes_t state;
  for (int i = 0; i < 8; i++) {
    state.x[i] = 1.0 + i * 0.25;
    state.k[i] = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
  }
  __builtin_cpu_init();
  int use_avx2 = __builtin_cpu_supports("avx2");
  // Which path ran goes to stderr: stdout must be identical on every CPU.
  fprintf(stderr, "avxmath: %s path\n", use_avx2 ? "avx2" : "sse2");
  for (int b = 0; b < blocks; b++) {
    if (use_avx2) run_avx2(&state, iterations);
    else run_sse2(&state, iterations);
    uint64_t mix = 0;
    for (int i = 0; i < 8; i++) mix = mix * 31 + bits(state.x[i]) + state.k[i];
    printf("block %d x0=%.17g x7=%.17g mix=%016llx\n", b, state.x[0], state.x[7], (unsigned long long)mix);
    fflush(stdout);
  }
  printf("avxmath done blocks=%d\n", blocks);
  return 0;
}
