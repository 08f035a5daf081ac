"""Fast token generation and VQGAN decoding over the engine's own modules.

`FastGenerator` decodes all images of a call in one `FastDecoder` of a bucketed capacity, stepped
by a `StepRunner` (CUDA graph, optionally compiled); the encoder output comes from the reference
pipeline's own (cached) `encode`. `FastVQGAN` decodes tokens in half precision,
channels-last, on CUDA.
"""

from __future__ import annotations

import copy
import logging
from collections import OrderedDict
from collections.abc import Callable

import torch
from torch import nn

from generation.config import BartConfig
from generation.fast import sampler
from generation.fast.decoder import FastDecoder
from generation.fast.runner import RunnerOptions, StepRunner

log = logging.getLogger(__name__)

OnStep = Callable[[int, torch.Tensor], None]  # (steps done, tokens so far (N, steps done))

CAPACITIES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)  # CUDA batch buckets: one graph each
KEEP_DECODERS = 3  # captured decoders kept (each holds its KV cache)


def bucket(n: int, device: torch.device) -> int:
    """Slots to allocate for n images: exact on CPU (no graphs), the next bucket on CUDA."""
    if device.type != "cuda":
        return n
    return next((c for c in CAPACITIES if c >= n), n)


class FastGenerator:
    """Decodes image tokens from encoder output with a `FastDecoder` per (capacity, top_k) bucket."""

    def __init__(
        self,
        config: BartConfig,
        decoder: nn.Module,
        *,
        options: RunnerOptions | None = None,
        max_batch: int = CAPACITIES[-1],
        keep_decoders: int = KEEP_DECODERS,
    ) -> None:
        self.config = config
        self.decoder = decoder
        self.options = options or RunnerOptions()
        self.max_batch = max_batch
        self.keep_decoders = keep_decoders
        self._decoders: OrderedDict[tuple[int, int, bool], tuple[FastDecoder, StepRunner]] = OrderedDict()

    @property
    def device(self) -> torch.device:
        return next(self.decoder.parameters()).device

    def runner(self, images: int, top_k: int, guided: bool = True) -> tuple[FastDecoder, StepRunner]:
        """The (cached) decoder + runner for a batch of `images` with candidates for `top_k`."""
        capacity = bucket(images, self.device)
        key = (capacity, sampler.candidate_count(top_k, self.config.image_vocab_size), guided)
        if key in self._decoders:
            self._decoders.move_to_end(key)
            return self._decoders[key]
        while len(self._decoders) >= self.keep_decoders:
            self._decoders.popitem(last=False)
        with torch.inference_mode(False):  # buffers updated in place later, in any mode
            fast = FastDecoder(self.config, self.decoder, capacity, max_candidates=top_k, guided=guided)
            entry = (fast, StepRunner(fast, self.options))
        log.info("fast decoder: capacity %d, %d candidates, %s", capacity, key[1], entry[1].mode)
        self._decoders[key] = entry
        return entry

    @torch.no_grad()
    def generate(
        self,
        encoder_out: torch.Tensor,
        text_mask: torch.Tensor,
        cond_rows: torch.Tensor,
        uniforms: torch.Tensor,
        *,
        top_k: int = 50,
        temperature: float = 0.7,
        cond_scale: float = 10.0,
        start_token: int | None = None,
        on_step: OnStep | None = None,
        step_interval: int = 32,
    ) -> torch.Tensor:
        """Image tokens (N, 256) long on the device.

        encoder_out (U, T, D) and text_mask (U, T) with the unconditional row at 0; cond_rows (N,)
        the encoder row each image reads; uniforms (N, 256) its draws (`sampling.draw_uniforms`).
        `on_step(steps done, tokens so far)` runs every `step_interval` steps (each call waits for
        the device).
        """
        if temperature <= 0:
            raise ValueError("temperature must be > 0")
        cfg = self.config
        top_k = cfg.image_vocab_size if top_k <= 0 else min(int(top_k), cfg.image_vocab_size)
        start = cfg.start_token if start_token is None else start_token
        out = []
        for first in range(0, cond_rows.shape[0], self.max_batch):
            chunk = slice(first, first + self.max_batch)
            out.append(self._decode(
                encoder_out, text_mask, cond_rows[chunk].to(self.device), uniforms[chunk], top_k=top_k,
                temperature=temperature, cond_scale=cond_scale, start_token=start, on_step=on_step,
                step_interval=step_interval,
            ))  # fmt: skip
        return torch.cat(out)

    def _decode(
        self, encoder_out: torch.Tensor, text_mask: torch.Tensor, cond_rows: torch.Tensor,
        uniforms: torch.Tensor, *, top_k: int, temperature: float, cond_scale: float, start_token: int,
        on_step: OnStep | None, step_interval: int,
    ) -> torch.Tensor:  # fmt: skip
        n, total = cond_rows.shape[0], self.config.image_tokens
        guided = cond_scale != 1.0  # at 1 the unconditional rows are weighted 0: skip them
        fast, runner = self.runner(n, top_k, guided)
        fast.position.fill_(total)  # every slot idle …
        rows = torch.cat([torch.zeros_like(cond_rows), cond_rows]) if guided else cond_rows  # uncond: row 0
        fast.admit(  # … then the n images start at step 0
            torch.arange(n, device=self.device), encoder_out[rows], text_mask[rows], uniforms=uniforms,
            top_k=torch.full((n,), top_k), temperature=torch.full((n,), float(temperature)),
            cond_scale=torch.full((n,), float(cond_scale)), start_token=start_token,
        )  # fmt: skip
        done = 0
        while done < total:
            steps = min(step_interval if on_step else total, total - done)
            runner.run(steps)
            done += steps
            if on_step is not None:
                on_step(done, fast.tokens[:n, :done].clone())
        return fast.tokens[:n, :total].clone()


class FastVQGAN:
    """VQGAN decoding in half precision, channels-last, on CUDA; unchanged elsewhere."""

    def __init__(self, module: nn.Module, *, channels_last: bool = True, compile: bool = False) -> None:
        weight = next(module.parameters())
        self.device = weight.device
        self.module = module
        if self.device.type == "cuda":
            half = torch.float16
            if weight.dtype != half:  # a converted copy: the reference path keeps its precision
                self.module = copy.deepcopy(module).to(half)
            if channels_last:
                self.module = self.module.to(memory_format=torch.channels_last)
        self._compiled: Callable[[torch.Tensor], torch.Tensor] | None = None
        if compile:
            self._compiled = torch.compile(self.module, dynamic=False)  # compiles at the first call

    @torch.no_grad()
    def decode(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (N, 256) -> pixels (N, H, W, 3) uint8 on the device."""
        tokens = tokens.to(self.device)
        if self._compiled is not None:
            try:
                return _to_uint8(self._compiled(tokens))
            except Exception as exc:  # no backend (Triton, C compiler) or a compile error: eager
                log.warning("torch.compile failed for the VQGAN (%s: %s); eager", type(exc).__name__, exc)
                self._compiled = None
        return _to_uint8(self.module(tokens))


def _to_uint8(pixels: torch.Tensor) -> torch.Tensor:
    return pixels.round().to(torch.uint8)
