"""`FastPipeline`: the reference `Pipeline`'s public API over the fast path.

Wraps a loaded `generation.Pipeline` (sharing its weights: no second copy) and replaces the two
hot loops: token decoding (`FastGenerator`) and VQGAN decoding (`FastVQGAN`). Tokenizing, the
encoder and its prompt cache, seeds and input checks are the reference pipeline's own. Anything
else (`config`, `tokenizer`, `device`, `save_pretrained`, …) is the wrapped pipeline's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from PIL import Image

from generation.fast.generator import FastGenerator, FastVQGAN, OnStep
from generation.fast.runner import RunnerOptions
from generation.pipeline import Pipeline
from generation.sampling import draw_uniforms, expand_seeds


class FastPipeline:
    """Same calls as `Pipeline`; same tokens for the same seed (see `generation.fast.sampler`)."""

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        options: RunnerOptions | None = None,
        vqgan_channels_last: bool = True,
        vqgan_compile: bool = False,
        max_batch: int = 256,
        step_interval: int = 32,
        keep_decoders: int = 3,
    ) -> None:
        self.pipeline = pipeline
        self.generator = FastGenerator(
            pipeline.config.bart, pipeline.decoder, options=options, max_batch=max_batch,
            keep_decoders=keep_decoders,
        )  # fmt: skip
        self.vqgan = FastVQGAN(pipeline.vqgan, channels_last=vqgan_channels_last, compile=vqgan_compile)
        self.step_interval = step_interval

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pipeline, name)

    def tokenize(self, prompt: str) -> list[int]:
        """Prompt -> `<s> … </s>` ids (unpadded)."""
        return self.pipeline.tokenize(prompt)

    @torch.no_grad()  # not inference_mode: the decoder's buffers must stay normal tensors
    def generate_tokens(
        self,
        prompts: str | Sequence[str],
        *,
        images_per_prompt: int = 1,
        seed: int | Sequence[int] | None = None,
        top_k: int | None = None,
        temperature: float | None = None,
        cond_scale: float | None = None,
        start_token: int | None = None,
        on_step: OnStep | None = None,
    ) -> torch.Tensor:
        """As `Pipeline.generate_tokens` (None: the model's own sampling settings, not DALL·E Mini's
        guidance 10, which breaks the embedded model); on_step runs every `step_interval` steps."""
        # 1. check inputs
        prompts = [prompts] if isinstance(prompts, str) else list(prompts)
        bart = self.pipeline.config.bart
        if not prompts:
            raise ValueError("no prompts given")
        if images_per_prompt < 1:
            raise ValueError("images_per_prompt must be >= 1")
        start = bart.start_token if start_token is None else start_token
        if not 0 <= start < bart.decoder_vocab_size:
            raise ValueError(f"start_token {start} outside the decoder's {bart.decoder_vocab_size} rows")
        seeds = expand_seeds(seed, len(prompts))
        top_k, temperature, cond_scale = self.pipeline.config.sampling.resolve(top_k, temperature, cond_scale)
        # 2. encode (the reference pipeline's cache); image i reads encoder row cond_rows[i]
        encoder_out, text_mask = self.pipeline.encode(prompts)
        cond_rows = torch.arange(1, len(prompts) + 1).repeat_interleave(images_per_prompt)
        # 3. the reference's per-image uniforms, then the fast decode
        uniforms = draw_uniforms(seeds, images_per_prompt, bart.image_tokens)
        return self.generator.generate(
            encoder_out, text_mask, cond_rows, uniforms, top_k=top_k, temperature=temperature,
            cond_scale=cond_scale, start_token=start, on_step=on_step, step_interval=self.step_interval,
        )  # fmt: skip

    @torch.inference_mode()
    def decode_pixels(self, tokens: torch.Tensor) -> torch.Tensor:
        """Image tokens (N, <= 256) -> pixels (N, H, W, 3) uint8 on the device."""
        tokens = torch.as_tensor(tokens).long()
        if tokens.dim() == 1:
            tokens = tokens.unsqueeze(0)
        want = self.pipeline.config.vqgan.grid**2
        if tokens.shape[1] < want:
            tokens = torch.nn.functional.pad(tokens, (0, want - tokens.shape[1]))
        return self.vqgan.decode(tokens)

    def decode_tokens(self, tokens: torch.Tensor) -> list[Image.Image]:
        """Image tokens (N, <= 256) -> N RGB images."""
        pixels = self.decode_pixels(tokens).cpu()
        return [Image.fromarray(p.numpy()) for p in pixels]

    def __call__(self, prompts: str | Sequence[str], **options: Any) -> list[Image.Image]:
        """Prompts -> images (prompt-major); options as for `generate_tokens`."""
        # 1. tokens
        tokens = self.generate_tokens(prompts, **options)
        # 2. pixels
        return self.decode_tokens(tokens)


def accelerate(pipeline: Pipeline, **kwargs: Any) -> FastPipeline | Pipeline:
    """The fast path on CUDA; elsewhere the pipeline itself, whose CPU path is tuned for CPUs.

    (A FastPipeline also runs on a CPU, eagerly, when the decoder has one dtype: the tests use it
    there to check it against the reference.)
    """
    if pipeline.device.type != "cuda":
        return pipeline
    return FastPipeline(pipeline, **kwargs)
