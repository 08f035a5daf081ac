"""Fast token generation and VQGAN decoding over the engine's own modules.

`FastGenerator` runs the text encoder once per call (unconditional row shared by every prompt),
then decodes all images of the call in one `FastDecoder` of a bucketed capacity, stepped by a
`StepRunner` (CUDA graph, optionally compiled). `FastVQGAN` decodes tokens in half precision,
channels-last, on CUDA.
"""

from __future__ import annotations

import copy
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence

import torch
from torch import nn

from generation.config import BartConfig
from generation.fast import sampler
from generation.fast.decoder import FastDecoder
from generation.fast.runner import RunnerOptions, StepRunner

log = logging.getLogger(__name__)

CAPACITIES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)  # CUDA batch buckets: one graph each
KEEP_DECODERS = 3  # captured decoders kept (each holds its KV cache)


def bucket(n: int, device: torch.device) -> int:
    """Slots to allocate for n images: exact on CPU (no graphs), the next bucket on CUDA."""
    if device.type != "cuda":
        return n
    return next((c for c in CAPACITIES if c >= n), n)


class FastGenerator:
    """generate(text_tokens, …) -> image tokens, same contract as the reference path's sampler."""

    def __init__(
        self,
        config: BartConfig,
        encoder: nn.Module,
        decoder: nn.Module,
        *,
        options: RunnerOptions | None = None,
        max_batch: int = CAPACITIES[-1],
    ) -> None:
        self.config = config
        self.encoder = encoder
        self.decoder = decoder
        self.options = options or RunnerOptions()
        self.max_batch = max_batch
        self._decoders: OrderedDict[tuple[int, int], tuple[FastDecoder, StepRunner]] = OrderedDict()

    @property
    def device(self) -> torch.device:
        return next(self.decoder.parameters()).device

    def runner(self, images: int, top_k: int) -> tuple[FastDecoder, StepRunner]:
        """The (cached) decoder + runner for a batch of `images` with candidates for `top_k`."""
        capacity = bucket(images, self.device)
        kk = sampler.candidate_count(top_k, self.config.image_vocab_size)
        key = (capacity, kk)
        if key in self._decoders:
            self._decoders.move_to_end(key)
            return self._decoders[key]
        while len(self._decoders) >= KEEP_DECODERS:
            self._decoders.popitem(last=False)
        fast = FastDecoder(self.config, self.decoder, capacity, max_candidates=top_k)
        entry = (fast, StepRunner(fast, self.options))
        log.info("fast decoder: capacity %d, %d candidates, %s", capacity, kk, entry[1].mode)
        self._decoders[key] = entry
        return entry

    @torch.no_grad()
    def encode(self, text_tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """text_tokens (P, T) -> encoder states (P+1, T, d), mask (P+1, T); row 0 is unconditional."""
        cfg = self.config
        uncond = torch.full_like(text_tokens[:1], cfg.pad_token)
        uncond[0, 0], uncond[0, 1] = cfg.bos_token, cfg.eos_token
        rows = torch.cat([uncond, text_tokens]).to(self.device)
        return self.encoder(rows), rows != cfg.pad_token

    @torch.no_grad()
    def generate(
        self,
        text_tokens: torch.Tensor,
        *,
        images_per_prompt: int = 1,
        seeds: Sequence[int],
        top_k: int = 50,
        temperature: float = 0.7,
        cond_scale: float = 10.0,
        start_token: int | None = None,
        on_step: Callable[[int, torch.Tensor], None] | None = None,
        step_interval: int = 32,
    ) -> torch.Tensor:
        """text_tokens (P, T) long, one seed per prompt -> image tokens (P·n, 256) long on the CPU.

        Images are ordered prompt-major (prompt 0's n images first). `on_step(step, tokens_so_far)`
        is called every `step_interval` steps (each call waits for the device).
        """
        cfg = self.config
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        top_k = max(1, min(int(top_k), cfg.image_vocab_size))
        prompts = text_tokens.shape[0]
        if len(seeds) != prompts:
            raise ValueError(f"need one seed per prompt: {prompts} prompts, {len(seeds)} seeds")
        states, mask = self.encode(text_tokens)
        n_images = prompts * images_per_prompt
        image_prompt = torch.arange(prompts).repeat_interleave(images_per_prompt)  # (N,)
        noise = sampler.draw_noise(
            seeds,
            [images_per_prompt] * prompts,
            [top_k] * prompts,
            steps=cfg.image_tokens,
            vocab=cfg.image_vocab_size,
            device=self.device,
        )
        out = []
        for first in range(0, n_images, self.max_batch):
            chunk = slice(first, min(n_images, first + self.max_batch))
            prompt_rows = image_prompt[chunk].to(self.device) + 1  # encoder row of each image
            out.append(
                self._decode(
                    states,
                    mask,
                    prompt_rows,
                    noise[chunk],
                    top_k=top_k,
                    temperature=temperature,
                    cond_scale=cond_scale,
                    start_token=cfg.start_token if start_token is None else start_token,
                    on_step=on_step,
                    step_interval=step_interval,
                    first=first,
                )
            )
        return torch.cat(out)

    def _decode(
        self,
        states: torch.Tensor,
        mask: torch.Tensor,
        prompt_rows: torch.Tensor,
        noise: torch.Tensor,
        *,
        top_k: int,
        temperature: float,
        cond_scale: float,
        start_token: int,
        on_step: Callable[[int, torch.Tensor], None] | None,
        step_interval: int,
        first: int,
    ) -> torch.Tensor:
        n = prompt_rows.shape[0]
        fast, runner = self.runner(n, top_k)
        fast.position.fill_(self.config.image_tokens)  # every slot idle …
        rows = torch.cat([torch.zeros_like(prompt_rows), prompt_rows])  # (2n,) uncond rows read row 0
        slots = torch.arange(n, device=self.device)
        fast.admit(  # … then the n images start at step 0
            slots,
            states[rows],
            mask[rows],
            noise=noise,
            top_k=torch.full((n,), top_k),
            temperature=torch.full((n,), float(temperature)),
            cond_scale=torch.full((n,), float(cond_scale)),
            start_token=start_token,
        )
        done = 0
        total = self.config.image_tokens
        while done < total:
            steps = min(step_interval if on_step else total, total - done)
            runner.run(steps)
            done += steps
            if on_step is not None:
                on_step(done, fast.tokens[:n, :done].cpu())
        return fast.tokens[:n, :total].cpu()


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
