"""Text -> images: the orchestrating class over tokenizer, encoder, decoder and VQGAN decoder.

Shaped like a diffusers pipeline: the components are passed in, `__call__` runs numbered steps.
One call decodes a batch of different prompts, n images each; every image has its own seeded
random stream, so its tokens do not depend on what it was batched with.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from PIL import Image

from generation.config import ModelConfig
from generation.cpu import SMALL_MODEL_WIDTH, has_native_bf16, prepare_for_cpu
from generation.decoder import ImageDecoder
from generation.encoder import TextEncoder
from generation.loading import Components, load_components, resolve_device, resolve_dtype, save_components
from generation.sampling import draw_uniforms, expand_seeds, guidance, probabilities, sample
from generation.tokenizer import Encoding, Tokenizer
from generation.vqgan import VQGANDecoder

log = logging.getLogger(__name__)

OnStep = Callable[[int, torch.Tensor], None]  # (steps done, tokens so far (N, steps done))


class Pipeline:
    """DALL·E Mini-style generation. Build with `load_pipeline` or from components directly."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        encoder: TextEncoder,
        decoder: ImageDecoder,
        vqgan: VQGANDecoder,
        *,
        config: ModelConfig | None = None,
        device: str | torch.device | None = "cpu",
        dtype: str | torch.dtype | None = None,
        encoder_cache_size: int = 64,
        vqgan_batch: int = 8,
        cpu_kernels: bool | None = None,
    ) -> None:
        """cpu_kernels: route bf16 Linears through generation.cpu on CPUs without native bf16
        (None = when that applies); the VQGAN decoder then runs in fp32."""
        if tokenizer.max_tokens > encoder.config.text_tokens:
            raise ValueError(
                f"tokenizer writes up to {tokenizer.max_tokens} tokens, the encoder has "
                f"{encoder.config.text_tokens} positions"
            )
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)
        if dtype is None and self.device.type == "cpu" and encoder.config.d_model < SMALL_MODEL_WIDTH:
            # a model this small gains nothing from emulated bf16 (and would build a kernel first)
            self.dtype = torch.float32
        self.tokenizer = tokenizer
        emulated_bf16 = self.device.type == "cpu" and self.dtype == torch.bfloat16 and not has_native_bf16()
        if cpu_kernels or (cpu_kernels is None and emulated_bf16):  # bf16 matmul weights, fp32 rest
            self.encoder = prepare_for_cpu(encoder.to(self.device)).eval()
            self.decoder = prepare_for_cpu(decoder.to(self.device)).eval()
        else:
            self.encoder = encoder.to(self.device, self.dtype).eval()
            self.decoder = decoder.to(self.device, self.dtype).eval()
        # CPU convolutions in half precision without native support are ~10x slower than fp32
        cpu_half = self.device.type == "cpu" and self.dtype != torch.float32
        self.vqgan_dtype = torch.float32 if cpu_half and not has_native_bf16() else self.dtype
        self.vqgan = vqgan.to(self.device, self.vqgan_dtype).eval()
        # the model's sizes come from its modules; name and default sampling from `config`
        given = config or ModelConfig(name="model")
        self.config = ModelConfig(encoder.config, vqgan.config, given.name, given.sampling)
        self.encoder_cache_size = encoder_cache_size
        self.vqgan_batch = vqgan_batch
        self._encoded: OrderedDict[tuple[int, ...], torch.Tensor] = OrderedDict()  # ids -> (T, D)

    @classmethod
    def from_components(cls, components: Components, **kwargs: object) -> Pipeline:
        return cls(components.tokenizer, components.encoder, components.decoder, components.vqgan,
                   config=components.config, **kwargs)  # type: ignore[arg-type]  # fmt: skip

    def save_pretrained(self, directory: str | Path) -> None:
        """Write the project's own format (config.json, model.safetensors, tokenizer files)."""
        parts = Components(self.config, self.tokenizer, self.encoder, self.decoder, self.vqgan)
        save_components(parts, directory)

    # --- text ---------------------------------------------------------------------------------

    def tokenize(self, prompt: str) -> list[int]:
        """Prompt -> `<s> … </s>` ids (unpadded)."""
        return self.tokenizer.encode(prompt)

    def tokenize_with_unknown(self, prompt: str) -> Encoding:
        """Prompt -> ids and the words the vocabulary does not cover."""
        return self.tokenizer.encode_with_unknown(prompt)

    @torch.inference_mode()
    def encode(self, prompts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoder output for the unconditional row followed by each prompt, cached per token row.

        -> encoder_out (1 + P, T, D), text_mask (1 + P, T) bool
        """
        bart = self.config.bart
        rows = self.tokenizer.pad_batch([[bart.bos_token, bart.eos_token], *map(self.tokenize, prompts)])
        keys = [tuple(r) for r in rows]
        todo = list(dict.fromkeys(k for k in keys if k not in self._encoded))
        if todo:
            out = self.encoder(torch.tensor(todo, device=self.device))  # (len(todo), T, D)
            for key, row in zip(todo, out, strict=True):
                self._encoded[key] = row
        for key in keys:
            self._encoded.move_to_end(key)
        encoder_out = torch.stack([self._encoded[k] for k in keys])
        while len(self._encoded) > self.encoder_cache_size:
            self._encoded.popitem(last=False)
        text_mask = torch.tensor(rows, device=self.device) != bart.pad_token
        return encoder_out, text_mask

    # --- image tokens -------------------------------------------------------------------------

    @torch.inference_mode()
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
        """Prompts -> image tokens (P * images_per_prompt, image_tokens), prompt-major order.

        seed: one int for all prompts or one per prompt; image j of a prompt is the same whatever
        images_per_prompt or the other prompts are. top_k / temperature / cond_scale None: the
        model's `config.sampling` (DALL·E Mini's 50, 0.7, 10 unless the model's config.json says
        otherwise); cond_scale 1 skips the unconditional rows.
        """
        # 1. check inputs
        prompts = [prompts] if isinstance(prompts, str) else list(prompts)
        bart = self.config.bart
        if not prompts:
            raise ValueError("no prompts given")
        if images_per_prompt < 1:
            raise ValueError("images_per_prompt must be >= 1")
        start = bart.start_token if start_token is None else start_token
        if not 0 <= start < bart.decoder_vocab_size:
            raise ValueError(f"start_token {start} outside the decoder's {bart.decoder_vocab_size} rows")
        top_k, temperature, cond_scale = self.config.sampling.resolve(top_k, temperature, cond_scale)
        if temperature <= 0:
            raise ValueError("temperature must be > 0")
        seeds = expand_seeds(seed, len(prompts))
        n = len(prompts) * images_per_prompt
        steps = bart.image_tokens

        # 2. encode (cached per prompt); decoded row i reads encoder row `rows[i]`
        encoder_out, text_mask = self.encode(prompts)
        cond_rows = torch.arange(1, len(prompts) + 1, device=self.device).repeat_interleave(images_per_prompt)
        guided = cond_scale != 1.0
        rows = torch.cat([torch.zeros_like(cond_rows), cond_rows]) if guided else cond_rows

        # 3. per-image random streams, cross-attention K/V once, static self-attention cache
        uniforms = draw_uniforms(seeds, images_per_prompt, steps).to(self.device)  # (N, steps)
        cache = self.decoder.new_cache(encoder_out, text_mask, rows=rows)
        tokens = torch.full((len(rows), 1), start, dtype=torch.long, device=self.device)
        out = torch.empty(n, steps, dtype=torch.long, device=self.device)

        # 4. decode one position at a time
        for step in range(steps):
            logits = self.decoder.step(tokens, cache, step)[:, : bart.image_vocab_size].float()  # (rows, V)
            if guided:
                logits = guidance(logits[:n], logits[n:], cond_scale)
            out[:, step] = sample(probabilities(logits, top_k, temperature), uniforms[:, step])
            tokens = out[:, step].repeat(len(rows) // n).unsqueeze(1)
            if on_step is not None:
                on_step(step + 1, out[:, : step + 1])
        return out

    # --- pixels -------------------------------------------------------------------------------

    @torch.inference_mode()
    def decode_tokens(self, tokens: torch.Tensor) -> list[Image.Image]:
        """Image tokens (N, <= image_tokens) -> N RGB images; missing trailing tokens (previews) are 0."""
        tokens = torch.as_tensor(tokens, device=self.device).long()
        if tokens.dim() == 1:
            tokens = tokens.unsqueeze(0)
        want = self.config.vqgan.grid**2
        if tokens.shape[1] < want:
            tokens = torch.nn.functional.pad(tokens, (0, want - tokens.shape[1]))
        images = []
        for chunk in tokens.split(self.vqgan_batch):
            pixels = self.vqgan(chunk).round().to(torch.uint8).cpu()  # (b, H, W, 3)
            images.extend(Image.fromarray(p.numpy()) for p in pixels)
        return images

    def __call__(self, prompts: str | Sequence[str], **options: object) -> list[Image.Image]:
        """Prompts -> images (prompt-major); options as for `generate_tokens`."""
        # 1. tokens
        tokens = self.generate_tokens(prompts, **options)  # type: ignore[arg-type]
        # 2. pixels
        return self.decode_tokens(tokens)


def load_pipeline(
    path: str | Path | None = None,
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
) -> Pipeline:
    """Load a model directory (min-dalle models_root or the project's format; None = embedded model).

    device None -> CUDA when available, else CPU; dtype None -> half precision (bf16, or fp16 on
    CUDA cards without bf16; fp32 for a small model on CPU); "fp32" on request.
    """
    dev = resolve_device(device)
    components = load_components(path)
    pipeline = Pipeline.from_components(components, device=dev, dtype=dtype)
    log.info("loaded %s (%s) on %s as %s", components.config.name, path or "embedded", dev, pipeline.dtype)
    return pipeline
