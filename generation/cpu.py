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
                    functions=["bf16_gemv"],
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


def prepare_for_cpu(module: nn.Module) -> nn.Module:
    """bf16 weights for every bias-free Linear (through Bf16Linear), fp32 for everything else
    (norms, embeddings, so activations and attention run in fp32). Returns `module`."""
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Linear) and child.bias is None:
                setattr(parent, name, Bf16Linear(child))
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

