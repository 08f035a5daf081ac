"""bf16 on CPUs without native bf16 maths (AVX2-only x86, e.g. this project's 2-core runner).

There PyTorch's bf16 matmul converts the weights again for every input row, so it is slower
than fp32 and gets slower with batch size, and bf16 convolutions are ~10x slower than fp32.
`prepare_for_cpu` keeps the matmul weights (nearly all parameters) in bf16, half the memory
and memory traffic, and runs everything else in fp32; every Linear goes through `Bf16Linear`:
- few rows (one decode step: 2 rows per image): a small AVX2 kernel that reads each bf16
  weight once, widens it in registers and multiplies it with all rows in fp32; compiled on
  first use with the system C++ compiler (torch.utils.cpp_extension), and if that is not
  possible, fp32 maths on a widened weight copy.
- many rows (the encoder, one pass per prompt): widen the weight once, fp32 matmul.
The VQGAN decoder (47M parameters, all convolutions) runs in fp32 there.
Nothing happens at import; on CPUs with native bf16 (AVX512-BF16/AMX) nothing is swapped.
DALLEBOT_CPU_KERNEL=0 skips the compiled kernel (the fallback is then used).
"""

from __future__ import annotations

import logging
import os
import threading

import torch
import torch.nn.functional as F
from torch import nn

log = logging.getLogger(__name__)

SMALL_MODEL_WIDTH = 512  # d_model below this: fp32 and one thread on CPU by default (the embedded model)
GEMV_MAX_ROWS = 16  # above this, one widened fp32 matmul beats re-reading the weight per block

_SOURCE = r"""
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <immintrin.h>
#include <cmath>
#include <cstring>

static inline __m256 widen(const uint16_t* w) {  // 8 bf16 -> 8 fp32: the bits shifted up 16
  __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

// y[m, n] = x[m, :] . w[:] for M rows; each weight widened once, two accumulator chains per row
// so the FMA latency does not bound the loop.
template <int M>
static void rows_block(const float* x, int64_t K, const uint16_t* w, int64_t n, float* y, int64_t N) {
  __m256 acc[M], acc2[M];
  for (int m = 0; m < M; ++m) acc[m] = acc2[m] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    __m256 w0 = widen(w + k), w1 = widen(w + k + 8);
    for (int m = 0; m < M; ++m) {
      acc[m] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + m * K + k), acc[m]);
      acc2[m] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + m * K + k + 8), acc2[m]);
    }
  }
  for (; k + 8 <= K; k += 8) {
    __m256 w0 = widen(w + k);
    for (int m = 0; m < M; ++m) acc[m] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + m * K + k), acc[m]);
  }
  for (int m = 0; m < M; ++m) acc[m] = _mm256_add_ps(acc[m], acc2[m]);
  for (int m = 0; m < M; ++m) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc[m]), _mm256_extractf128_ps(acc[m], 1));
    s = _mm_hadd_ps(s, s);
    s = _mm_hadd_ps(s, s);
    float total = _mm_cvtss_f32(s);
    for (int64_t j = k; j < K; ++j) {
      uint32_t bits = static_cast<uint32_t>(w[j]) << 16;
      float wj;
      std::memcpy(&wj, &bits, sizeof(float));
      total += wj * x[m * K + j];
    }
    y[m * N + n] = total;
  }
}

// y (M, N) fp32 = x (M, K) fp32 @ w (N, K) bf16 ^T
torch::Tensor bf16_gemv(torch::Tensor x, torch::Tensor w) {
  TORCH_CHECK(x.dim() == 2 && w.dim() == 2 && x.size(1) == w.size(1), "bf16_gemv: shapes");
  TORCH_CHECK(x.scalar_type() == torch::kFloat32 && w.scalar_type() == torch::kBFloat16, "bf16_gemv: dtypes");
  x = x.contiguous();
  w = w.contiguous();
  const int64_t M = x.size(0), K = x.size(1), N = w.size(0);
  auto y = torch::empty({M, N}, x.options());
  const float* xp = x.data_ptr<float>();
  const uint16_t* wp = reinterpret_cast<const uint16_t*>(w.data_ptr<at::BFloat16>());
  float* yp = y.data_ptr<float>();
  // at least ~256K weights per task: small layers stay on one thread (hand-offs cost more)
  const int64_t grain = std::max<int64_t>(16, (int64_t(1) << 18) / std::max<int64_t>(K, 1));
  at::parallel_for(0, N, grain, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      for (int64_t m0 = 0; m0 < M; m0 += 4) {
        const float* xm = xp + m0 * K;
        float* ym = yp + m0 * N;
        switch (std::min<int64_t>(4, M - m0)) {
          case 4: rows_block<4>(xm, K, wp + n * K, n, ym, N); break;
          case 3: rows_block<3>(xm, K, wp + n * K, n, ym, N); break;
          case 2: rows_block<2>(xm, K, wp + n * K, n, ym, N); break;
          default: rows_block<1>(xm, K, wp + n * K, n, ym, N); break;
        }
      }
    }
  });
  return y;
}

static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_hadd_ps(s, s);
  s = _mm_hadd_ps(s, s);
  return _mm_cvtss_f32(s);
}

static inline float dot(const float* a, const float* b, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
  float total = hsum(acc);
  for (; i < n; ++i) total += a[i] * b[i];
  return total;
}

// The small per-step ops of single-position decoding run serially here: a handful of microseconds
// of work each, where ATen hands even 2 rows to the OpenMP pool (fork/join per op, and on shared
// cores a wait for a descheduled worker thread).

// y (M, N) = LayerNorm over rows of x (M, N) fp32 with weight, bias (N) fp32.
torch::Tensor layer_norm_rows(torch::Tensor x, torch::Tensor w, torch::Tensor b, double eps) {
  TORCH_CHECK(x.dim() == 2 && w.numel() == x.size(1) && b.numel() == x.size(1), "layer_norm_rows: shapes");
  TORCH_CHECK(x.scalar_type() == torch::kFloat32 && w.scalar_type() == torch::kFloat32 &&
              b.scalar_type() == torch::kFloat32, "layer_norm_rows: dtypes");
  x = x.contiguous();
  w = w.contiguous();
  b = b.contiguous();
  const int64_t M = x.size(0), N = x.size(1);
  auto y = torch::empty({M, N}, x.options());
  const float* wp = w.data_ptr<float>();
  const float* bp = b.data_ptr<float>();
  for (int64_t m = 0; m < M; ++m) {
    const float* xm = x.data_ptr<float>() + m * N;
    float* ym = y.data_ptr<float>() + m * N;
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= N; i += 8) acc = _mm256_add_ps(acc, _mm256_loadu_ps(xm + i));
    double sum = hsum(acc);
    for (; i < N; ++i) sum += xm[i];
    const float mean = static_cast<float>(sum / N);
    const __m256 vmean = _mm256_set1_ps(mean);
    acc = _mm256_setzero_ps();
    i = 0;
    for (; i + 8 <= N; i += 8) {
      __m256 d = _mm256_sub_ps(_mm256_loadu_ps(xm + i), vmean);
      acc = _mm256_fmadd_ps(d, d, acc);
    }
    double sq = hsum(acc);
    for (; i < N; ++i) sq += double(xm[i] - mean) * (xm[i] - mean);
    const float rstd = static_cast<float>(1.0 / std::sqrt(sq / N + eps));
    for (int64_t j = 0; j < N; ++j) ym[j] = (xm[j] - mean) * rstd * wp[j] + bp[j];
  }
  return y;
}

// exp for 8 floats: e^x = 2^n e^r, |r| <= ln2/2, e^r by a degree-6 polynomial (Cephes expf).
static inline __m256 exp8(__m256 x) {
  x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.3762626647949f)), _mm256_set1_ps(-87.0f));
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

// erf for 8 floats: Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7).
static inline __m256 erf8(__m256 x) {
  const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
  const __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), ax, one));
  __m256 p = _mm256_set1_ps(1.061405429f);
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
  p = _mm256_mul_ps(p, t);
  const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(ax, ax)));
  return _mm256_or_ps(sign, _mm256_fnmadd_ps(p, e, one));
}

// y = gelu(a) * b elementwise (exact gelu, erf form), a and b fp32 of the same shape.
torch::Tensor gelu_mul(torch::Tensor a, torch::Tensor b) {
  TORCH_CHECK(a.sizes() == b.sizes(), "gelu_mul: shapes");
  TORCH_CHECK(a.scalar_type() == torch::kFloat32 && b.scalar_type() == torch::kFloat32, "gelu_mul: dtypes");
  a = a.contiguous();
  b = b.contiguous();
  auto y = torch::empty_like(a);
  const float* ap = a.data_ptr<float>();
  const float* bp = b.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  const int64_t n = a.numel();
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
  const __m256 inv_sqrt2 = _mm256_set1_ps(0.70710678118654752f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(ap + i);
    const __m256 e = erf8(_mm256_mul_ps(x, inv_sqrt2));
    const __m256 g = _mm256_mul_ps(_mm256_mul_ps(half, x), _mm256_add_ps(one, e));
    _mm256_storeu_ps(yp + i, _mm256_mul_ps(g, _mm256_loadu_ps(bp + i)));
  }
  for (; i < n; ++i) yp[i] = 0.5f * ap[i] * (1.0f + std::erf(ap[i] * 0.70710678118654752f)) * bp[i];
  return y;
}
"""

_kernel_lock = threading.Lock()
_kernel: object | None = None
_kernel_failed = False


def has_native_bf16() -> bool:
    """True when oneDNN can do bf16 maths natively on this CPU (AVX512-BF16, AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _avx2() -> bool:
    return torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512")


def gemv_kernel() -> object | None:
    """The compiled AVX2 kernel module, or None (no compiler, no AVX2): callers fall back."""
    global _kernel, _kernel_failed
    if os.environ.get("DALLEBOT_CPU_KERNEL") == "0":  # operator switch; the tests use it too
        return None
    with _kernel_lock:
        if _kernel is None and not _kernel_failed:
            if not _avx2():
                _kernel_failed = True
                return None
            try:
                from torch.utils.cpp_extension import load_inline

                _kernel = load_inline(
                    name="dallebot_bf16_gemv",
                    cpp_sources=_SOURCE,
                    functions=["bf16_gemv", "layer_norm_rows", "gelu_mul"],
                    extra_cflags=["-O3", "-mavx2", "-mfma", "-fopenmp"],
                    extra_ldflags=["-fopenmp"],
                )
            except Exception as exc:  # any build failure (no compiler, no headers): use the fallback
                _kernel_failed = True
                log.warning("bf16 CPU kernel unavailable (%s); using widened fp32 matmuls instead", exc)
        return _kernel


class Bf16Linear(nn.Module):
    """A bias-free Linear holding its weight in bf16 and multiplying in fp32, without PyTorch's
    per-row re-conversion. The Parameter keeps the name `weight`, so state dicts are unchanged."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        if linear.bias is not None:
            raise ValueError("Bf16Linear wraps bias-free layers only")
        self.weight = nn.Parameter(linear.weight.detach().to(torch.bfloat16), requires_grad=False)  # (N, K)
        self.in_features, self.out_features = linear.in_features, linear.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., K) -> (..., N) in x's dtype"""
        rows = x.reshape(-1, self.in_features).float()
        kernel = gemv_kernel() if rows.shape[0] <= GEMV_MAX_ROWS else None
        # no kernel (or many rows): widen the weight once and use an fp32 matmul
        y = F.linear(rows, self.weight.float()) if kernel is None else kernel.bf16_gemv(rows, self.weight)
        return y.to(x.dtype).view(*x.shape[:-1], self.out_features)


class SmallLayerNorm(nn.LayerNorm):
    """nn.LayerNorm (same parameters, same names) whose few-row calls (a decode step's 2 rows per
    image) run serially in the compiled kernel; many rows, or no kernel: nn.LayerNorm itself."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = gemv_kernel() if x.dtype == torch.float32 and x.device.type == "cpu" else None
        n = x.shape[-1]
        if kernel is None or x.numel() > n * GEMV_MAX_ROWS or self.weight is None or self.bias is None:
            return super().forward(x)
        return kernel.layer_norm_rows(x.reshape(-1, n), self.weight, self.bias, self.eps).view(x.shape)


def small_gelu_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor | None:
    """gelu(a) * b for a decode step's few rows, serially in the compiled kernel; None when the
    kernel, the dtype or the size does not apply (the caller uses F.gelu)."""
    if a.dtype != torch.float32 or b.dtype != torch.float32 or a.device.type != "cpu" or a.shape != b.shape:
        return None
    if a.numel() > a.shape[-1] * GEMV_MAX_ROWS:
        return None
    kernel = gemv_kernel()
    return None if kernel is None else kernel.gelu_mul(a, b)


def prepare_for_cpu(module: nn.Module) -> nn.Module:
    """bf16 weights for every bias-free Linear (through Bf16Linear), fp32 for everything else
    (norms, embeddings, so activations and attention run in fp32); few-row LayerNorms and the
    GLU's gelu (decode steps) use the compiled serial kernels when available. Returns `module`."""
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Linear) and child.bias is None:
                setattr(parent, name, Bf16Linear(child))
            elif type(child) is nn.LayerNorm:
                child.__class__ = SmallLayerNorm  # same module, same parameters: only forward differs
        if hasattr(parent, "small_gelu_mul"):  # generation.layers.GLU
            parent.small_gelu_mul = small_gelu_mul
    for sub in module.modules():
        if not isinstance(sub, Bf16Linear):
            for name, p in sub.named_parameters(recurse=False):
                setattr(sub, name, nn.Parameter(p.detach().float(), requires_grad=False))
    return module


def set_generation_threads(model_width: int, threads: int | None = None) -> None:
    """Set torch's CPU threads for this process's generation (call at the edge: CLI, worker).

    threads None: 1 for a small model (d_model < 512, the embedded model), whose steps are too
    short for OpenMP to pay off — on shared cores two threads measured 8-24x slower — and torch's
    default for the published models, whose matmuls do scale.
    """
    if threads is None and model_width < SMALL_MODEL_WIDTH:
        threads = 1
    if threads:
        torch.set_num_threads(threads)
