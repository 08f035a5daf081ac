// Attention for one new query per row over a CPU cache: out (R, H, hd) = softmax(q·Kᵀ/√hd + bias)·V
//
// Each decode step attends 24 times (12 layers, self and cross) with one query per row, in fp32. A
// call reads its keys and values once (1 MB for the 64 text keys of DALL·E Mini's cross-attention,
// up to 4 MB for the 256 image keys) and little else, yet PyTorch 2.13's SDPA takes 120-310 µs a
// call on a 2-core AMD EPYC (Zen 4) with the cache out of L3: it tiles for long queries. Here each
// (row, head) is one task: scores key by key, a vectorised exp, then the weighted sum of values.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace {

constexpr int kMaxChunks = 16;  // head_dim up to 16 registers: 256 (AVX512) or 128 (AVX2) floats

struct Views {
  const float *q, *k, *v, *bias;
  const int64_t* lengths;  // per row, the keys it attends (the first ones); null: all n
  float* out;
  int64_t H, n, hd;
  int64_t qs0, qs1, ks0, ks1, ks2, vs0, vs1, vs2, bs0, bs3;
};

// 2^f for f in [-0.5, 0.5]: the Taylor series of e^(f·ln2), highest power first (ln2^i / i!)
constexpr int kExp2Terms = 7;
constexpr float kExp2[kExp2Terms] = {1.5403530e-4f, 1.3333558e-3f, 9.6181291e-3f, 5.5504109e-2f,
                                     0.24022651f,   0.69314718f,   1.0f};

// e^x for a vector, relative error < 2e-7; x = -inf gives exactly 0 (a masked key weighs nothing)
__attribute__((target("avx512f"))) __m512 exp_avx512(__m512 x) {
  const __m512 clamped = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
  const __m512 t = _mm512_mul_ps(clamped, _mm512_set1_ps(1.4426950408889634f));  // log2(e)
  const __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_sub_ps(t, n);  // [-0.5, 0.5]
  __m512 p = _mm512_set1_ps(kExp2[0]);
  for (int i = 1; i < kExp2Terms; ++i) p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(kExp2[i]));
  const __mmask16 live = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-INFINITY), _CMP_NEQ_OQ);
  return _mm512_maskz_mov_ps(live, _mm512_scalef_ps(p, n));
}

__attribute__((target("avx2,fma"))) __m256 exp_avx2(__m256 x) {
  const __m256 clamped = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
  const __m256 t = _mm256_mul_ps(clamped, _mm256_set1_ps(1.4426950408889634f));
  const __m256 n = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 f = _mm256_sub_ps(t, n);
  __m256 p = _mm256_set1_ps(kExp2[0]);
  for (int i = 1; i < kExp2Terms; ++i) p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(kExp2[i]));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  const __m256 live = _mm256_cmp_ps(x, _mm256_set1_ps(-INFINITY), _CMP_NEQ_OQ);
  return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(e)), live);
}

__attribute__((target("avx2,fma"))) float sum_avx2(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

constexpr int64_t kAhead = 8;  // keys prefetched ahead of the scores (a prefetch never faults)

inline void prefetch_row(const float* row, int64_t floats) {
  for (int64_t i = 0; i < floats; i += 16) _mm_prefetch(reinterpret_cast<const char*>(row + i), _MM_HINT_T0);
}

// One (row, head): the three passes over its keys; `scores` holds n floats (+ one vector of slack).
// Written once for both instruction sets: VEC holds W floats; the rest are that set's intrinsics.
#define DALLEBOT_ATTEND(ISA, VEC, W, SETZERO, LOADU, STOREU, FMADD, MUL, SET1, ADD, EXP, SUM)            \
  __attribute__((target(ISA))) void attend_##W(const Views& a, int64_t r, int64_t h, float* scores) {     \
    const int64_t chunks = a.hd / W;                                                                    \
    const float* q = a.q + r * a.qs0 + h * a.qs1;                                                       \
    const float* k = a.k + r * a.ks0 + h * a.ks1;                                                       \
    const float* v = a.v + r * a.vs0 + h * a.vs1;                                                       \
    const float* bias = a.bias + r * a.bs0;                                                             \
    const float scale = 1.0f / std::sqrt(static_cast<float>(a.hd));                                     \
    const int64_t n = a.lengths ? std::min(a.n, std::max<int64_t>(a.lengths[r], 0)) : a.n;             \
    VEC qv[kMaxChunks];                                                                                 \
    for (int64_t c = 0; c < chunks; ++c) qv[c] = MUL(LOADU(q + c * W), SET1(scale));                    \
    float top = -INFINITY;                                                                              \
    for (int64_t j = 0; j < n; ++j) {                                                                   \
      const float* kj = k + j * a.ks2;                                                                  \
      prefetch_row(k + (j + kAhead) * a.ks2, a.hd); /* keys ahead; the values for the third pass */    \
      prefetch_row(v + j * a.vs2, a.hd);                                                                \
      VEC acc = MUL(qv[0], LOADU(kj));                                                                  \
      for (int64_t c = 1; c < chunks; ++c) acc = FMADD(qv[c], LOADU(kj + c * W), acc);                  \
      const float s = SUM(acc) + bias[j * a.bs3];                                                       \
      scores[j] = s;                                                                                    \
      top = s > top ? s : top;                                                                          \
    }                                                                                                   \
    float* out = a.out + (r * a.H + h) * a.hd;                                                          \
    if (top == -INFINITY) { /* every key masked: no weights, zeros out */                               \
      for (int64_t i = 0; i < a.hd; ++i) out[i] = 0.0f;                                                 \
      return;                                                                                           \
    }                                                                                                   \
    for (int64_t j = n; j < n + W; ++j) scores[j] = -INFINITY; /* the last vector's tail */             \
    VEC total = SETZERO();                                                                              \
    for (int64_t j = 0; j < n; j += W) {                                                                \
      VEC p = EXP(ADD(LOADU(scores + j), SET1(-top)));                                                  \
      STOREU(scores + j, p);                                                                            \
      total = ADD(total, p);                                                                            \
    }                                                                                                   \
    VEC acc[kMaxChunks];                                                                                \
    for (int64_t c = 0; c < chunks; ++c) acc[c] = SETZERO();                                            \
    for (int64_t j = 0; j < n; ++j) {                                                                   \
      const VEC p = SET1(scores[j]);                                                                    \
      const float* vj = v + j * a.vs2;                                                                  \
      for (int64_t c = 0; c < chunks; ++c) acc[c] = FMADD(p, LOADU(vj + c * W), acc[c]);                \
    }                                                                                                   \
    const VEC inv = SET1(1.0f / SUM(total));                                                            \
    for (int64_t c = 0; c < chunks; ++c) STOREU(out + c * W, MUL(acc[c], inv));                         \
  }

// -inf + (-top) stays -inf, so the masked tail and masked keys come out of EXP as exactly 0
DALLEBOT_ATTEND("avx512f", __m512, 16, _mm512_setzero_ps, _mm512_loadu_ps, _mm512_storeu_ps,
                _mm512_fmadd_ps, _mm512_mul_ps, _mm512_set1_ps, _mm512_add_ps, exp_avx512,
                _mm512_reduce_add_ps)
DALLEBOT_ATTEND("avx2,fma", __m256, 8, _mm256_setzero_ps, _mm256_loadu_ps, _mm256_storeu_ps,
                _mm256_fmadd_ps, _mm256_mul_ps, _mm256_set1_ps, _mm256_add_ps, exp_avx2, sum_avx2)
#undef DALLEBOT_ATTEND

bool has_avx512() { return __builtin_cpu_supports("avx512f"); }
bool has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

// q (R, H, hd); k, v (R, H, n, hd) (views of a longer cache are fine: the last dim contiguous);
// bias (R, 1, 1, n) added to the scores (0 or -inf). All float32. lengths (R,) int64, optional: row r
// attends to its first lengths[r] keys only, the rest weigh nothing, as if masked (a static cache
// whose rows are at different steps reads only what each row has written). wide: AVX512 if present.
at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const at::Tensor& bias, const std::optional<at::Tensor>& lengths, bool wide) {
  TORCH_CHECK(q.dim() == 3 && k.dim() == 4 && v.dim() == 4 && bias.dim() == 4,
              "decode_attention: q (R, H, hd), k and v (R, H, n, hd), bias (R, 1, 1, n)");
  for (const at::Tensor* t : {&q, &k, &v, &bias}) {
    TORCH_CHECK(t->scalar_type() == at::kFloat, "decode_attention: float32 tensors only");
    TORCH_CHECK(t->stride(-1) == 1, "decode_attention: the last dimension must be contiguous");
  }
  const int64_t R = q.size(0), H = q.size(1), hd = q.size(2), n = k.size(2);
  TORCH_CHECK(k.sizes() == v.sizes() && k.size(0) == R && k.size(1) == H && k.size(3) == hd,
              "decode_attention: k and v must be (R, H, n, hd) for q (R, H, hd)");
  TORCH_CHECK(bias.size(0) == R && bias.size(3) == n, "decode_attention: bias must be (R, 1, 1, n)");
  at::Tensor limits;
  if (lengths.has_value()) {
    TORCH_CHECK(lengths->dim() == 1 && lengths->size(0) == R && lengths->scalar_type() == at::kLong,
                "decode_attention: lengths must be (R,) int64");
    limits = lengths->contiguous();
  }
  wide = wide && has_avx512();
  TORCH_CHECK(wide || has_avx2(), "decode_attention needs AVX2 and FMA");
  const int64_t width = wide ? 16 : 8;
  TORCH_CHECK(hd % width == 0 && hd / width <= kMaxChunks, "decode_attention: head_dim ", hd,
              " must be a multiple of ", width, " and at most ", width * kMaxChunks);
  at::Tensor out = at::empty({R, H, hd}, q.options());
  Views a{q.data_ptr<float>(), k.data_ptr<float>(), v.data_ptr<float>(), bias.data_ptr<float>(),
          limits.defined() ? limits.data_ptr<int64_t>() : nullptr, out.data_ptr<float>(), H, n, hd, q.stride(0), q.stride(1), k.stride(0), k.stride(1),
          k.stride(2), v.stride(0), v.stride(1), v.stride(2), bias.stride(0), bias.stride(3)};
  at::parallel_for(0, R * H, 1, [&](int64_t t0, int64_t t1) {
    std::vector<float> scores(n + 16);
    for (int64_t t = t0; t < t1; ++t) {
      if (wide) attend_16(a, t / H, t % H, scores.data());
      else attend_8(a, t / H, t % H, scores.data());
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(dallebot, CPU, m) { m.impl("decode_attention", &decode_attention); }
