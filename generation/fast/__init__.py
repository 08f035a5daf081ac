"""The fast CUDA path (issue 9): static KV cache, cached cross K/V, CUDA graphs, a top-k sampler
that does not sort the vocabulary, half-precision channels-last VQGAN decoding.

Same outputs as the reference path (identical tokens with top_k=1 in fp32; the same sampling
distribution otherwise); on a machine without CUDA it runs eagerly and stays correct.
"""

from generation.fast.decoder import FastDecoder
from generation.fast.generator import FastGenerator, FastVQGAN
from generation.fast.pipeline import FastPipeline, accelerate
from generation.fast.runner import RunnerOptions, StepRunner

__all__ = [
    "FastDecoder", "FastGenerator", "FastPipeline", "FastVQGAN", "RunnerOptions", "StepRunner", "accelerate",
]
