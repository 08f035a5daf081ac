// Weight-only int8 products at few rows on an x86 CPU: y (M, N) = x (M, K) @ (q * scale).T
//
// Decoding one image reads every matrix of the decoder once a step for two rows (the prompt and the
// empty prompt), so the product is bound by reading q. PyTorch 2.13's weight-only int8 kernels read
// it at 12-14 GB/s on a 2-core AVX512 EPYC (aten._weight_int8pack_mm) where memory gives ~30: they
// walk the rows of q one by one. Here q is stored in blocks of R rows, interleaved 16 columns at a
// time, so each thread reads one contiguous stream (prefetched ahead), widens 16 weights to fp32
// and multiplies them with up to four rows of x held in registers; the scale is applied once per
// output. Built at install time (setup.py); generation/kernels.py loads it and
// generation/weights.py routes int8 products on a CPU through it.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace {

constexpr int64_t kRows = 4;      // R: rows of q in a block
constexpr int64_t kColumns = 16;  // columns of one row read together (16 int8 = one fp32 zmm)
constexpr int64_t kPrefetch = 1024;  // bytes ahead of the stream: 16 steps of a block

// One block of R rows of q against M rows of x (M <= 4), AVX512.
template <int M>
__attribute__((target("avx512f,avx512bw"))) void block_avx512(
    const float* x, int64_t ldx, const int8_t* q, int64_t K, __m512 (&acc)[kRows][M]) {
  for (int r = 0; r < kRows; ++r)
    for (int m = 0; m < M; ++m) acc[r][m] = _mm512_setzero_ps();
  for (int64_t k = 0; k < K; k += kColumns, q += kColumns * kRows) {
    _mm_prefetch(reinterpret_cast<const char*>(q + kPrefetch), _MM_HINT_T0);
    __m512 xv[M];
    for (int m = 0; m < M; ++m) xv[m] = _mm512_loadu_ps(x + m * ldx + k);
    for (int r = 0; r < kRows; ++r) {
      __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + kColumns * r));
      __m512 w = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(bytes));
      for (int m = 0; m < M; ++m) acc[r][m] = _mm512_fmadd_ps(w, xv[m], acc[r][m]);
    }
  }
}

template <int M>
__attribute__((target("avx512f,avx512bw"))) void rows_avx512(
    const float* x, int64_t K, const int8_t* q, const float* scale, float* y, int64_t N,
    int64_t b0, int64_t b1) {
  __m512 acc[kRows][M];
  for (int64_t b = b0; b < b1; ++b) {
    block_avx512<M>(x, K, q + b * kRows * K, K, acc);
    for (int r = 0; r < kRows; ++r) {
      int64_t n = b * kRows + r;
      if (n >= N) break;
      for (int m = 0; m < M; ++m) y[m * N + n] = _mm512_reduce_add_ps(acc[r][m]) * scale[n];
    }
  }
}

// The same with 8-wide registers (AVX2 + FMA): two rows of x at a time (16 registers).
__attribute__((target("avx2,fma"))) inline float sum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <int M>
__attribute__((target("avx2,fma"))) void rows_avx2(
    const float* x, int64_t K, const int8_t* q, const float* scale, float* y, int64_t N,
    int64_t b0, int64_t b1) {
  for (int64_t b = b0; b < b1; ++b) {
    const int8_t* p = q + b * kRows * K;
    __m256 acc[kRows][M];
    for (int r = 0; r < kRows; ++r)
      for (int m = 0; m < M; ++m) acc[r][m] = _mm256_setzero_ps();
    for (int64_t k = 0; k < K; k += kColumns, p += kColumns * kRows) {
      _mm_prefetch(reinterpret_cast<const char*>(p + kPrefetch), _MM_HINT_T0);
      for (int half = 0; half < 2; ++half) {
        __m256 xv[M];
        for (int m = 0; m < M; ++m) xv[m] = _mm256_loadu_ps(x + m * K + k + 8 * half);
        for (int r = 0; r < kRows; ++r) {
          __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + kColumns * r + 8 * half));
          __m256 w = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
          for (int m = 0; m < M; ++m) acc[r][m] = _mm256_fmadd_ps(w, xv[m], acc[r][m]);
        }
      }
    }
    for (int r = 0; r < kRows; ++r) {
      int64_t n = b * kRows + r;
      if (n >= N) break;
      for (int m = 0; m < M; ++m) y[m * N + n] = sum8(acc[r][m]) * scale[n];
    }
  }
}

bool has_avx512() { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"); }
bool has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

// Blocks [b0, b1) for rows [m0, m0 + count) of x; count <= 4 (AVX512) or <= 2 (AVX2).
void run_blocks(bool wide, const float* x, int64_t count, int64_t K, const int8_t* q,
                const float* scale, float* y, int64_t N, int64_t b0, int64_t b1) {
  if (wide) {
    switch (count) {
      case 1: return rows_avx512<1>(x, K, q, scale, y, N, b0, b1);
      case 2: return rows_avx512<2>(x, K, q, scale, y, N, b0, b1);
      case 3: return rows_avx512<3>(x, K, q, scale, y, N, b0, b1);
      default: return rows_avx512<4>(x, K, q, scale, y, N, b0, b1);
    }
  }
  if (count == 1) return rows_avx2<1>(x, K, q, scale, y, N, b0, b1);
  return rows_avx2<2>(x, K, q, scale, y, N, b0, b1);
}

// x (M, K) float32 or bfloat16; blocked (ceil(N / R), K / 16, R, 16) int8; scale (N,) float32.
// wide: AVX512 where the CPU has it (false: the AVX2 code, so tests check both on one machine).
at::Tensor int8_gemv(const at::Tensor& x, const at::Tensor& blocked, const at::Tensor& scale, bool wide) {
  TORCH_CHECK(x.dim() == 2 && blocked.dim() == 4 && scale.dim() == 1, "int8_gemv: x (M, K), "
              "blocked (N/R, K/16, R, 16), scale (N,)");
  TORCH_CHECK(blocked.scalar_type() == at::kChar && scale.scalar_type() == at::kFloat,
              "int8_gemv: blocked must be int8 and scale float32");
  TORCH_CHECK(blocked.size(2) == kRows && blocked.size(3) == kColumns, "int8_gemv: blocks of 4×16");
  const int64_t M = x.size(0), K = x.size(1), N = scale.size(0), nb = blocked.size(0);
  TORCH_CHECK(blocked.size(1) * kColumns == K, "int8_gemv: x has ", K, " columns, the weight ",
              blocked.size(1) * kColumns);
  TORCH_CHECK(nb * kRows >= N && (nb - 1) * kRows < N, "int8_gemv: ", nb, " blocks for ", N, " rows");
  wide = wide && has_avx512();
  TORCH_CHECK(wide || has_avx2(), "int8_gemv needs AVX2 and FMA");
  at::Tensor xf = x.to(at::kFloat).contiguous();
  at::Tensor q = blocked.contiguous();
  at::Tensor s = scale.contiguous();
  at::Tensor y = at::empty({M, N}, xf.options());
  const int64_t chunk = wide ? 4 : 2;  // rows of x per pass over a block (registers)
  const float* xp = xf.data_ptr<float>();
  const int8_t* qp = q.data_ptr<int8_t>();
  const float* sp = s.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  // a thread takes whole blocks; with more rows of x than registers hold, each block is read
  // from memory once and multiplied by every chunk of rows while it sits in L1 (a 3×3 grid: 18)
  at::parallel_for(0, nb, 8, [&](int64_t b0, int64_t b1) {
    if (M <= chunk) return run_blocks(wide, xp, M, K, qp, sp, yp, N, b0, b1);
    for (int64_t b = b0; b < b1; ++b) {
      for (int64_t m0 = 0; m0 < M; m0 += chunk) {
        run_blocks(wide, xp + m0 * K, std::min(chunk, M - m0), K, qp, sp, yp + m0 * N, N, b, b + 1);
      }
    }
  });
  return x.scalar_type() == at::kFloat ? y : y.to(x.scalar_type());
}

}  // namespace

TORCH_LIBRARY_IMPL(dallebot, CPU, m) { m.impl("int8_gemv", &int8_gemv); }
