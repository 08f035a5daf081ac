"""Text -> images: the orchestrating class over tokenizer, encoder, decoder and VQGAN decoder.

Shaped like a diffusers pipeline: the components are passed in, `__call__` runs numbered steps.
One call decodes a batch of different prompts, n images each; every image has its own seeded
random stream, so its tokens do not depend on what it was batched with. Decoding runs the
decoder's step path (`ImageDecoder.step` over a `DecodeState` per batch bucket, replayed as a
CUDA graph where CUDA is: `generation.runner`) in the weight format the precision asks for.
"""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import torch
from PIL import Image

from generation import sampler
from generation.config import ModelConfig
from generation.decoder import DecodeState, ImageDecoder
from generation.encoder import TextEncoder
from generation.loading import Components, load_components, resolve_device, save_components
from generation.precision import SMALL_MODEL_WIDTH, Precision, resolve_precision
from generation.runner import RunnerOptions, StepRunner
from generation.sampler import draw_uniforms, expand_seeds
from generation.threads import ThreadTuner, available_cores, thread_candidates
from generation.tokenizer import Encoding, Tokenizer
from generation.understanding import model_prompt_rewriter
from generation.vqgan import VQGANDecoder
from generation.weights import DENSE, PACKED

log = logging.getLogger(__name__)

OnStep = Callable[[int, torch.Tensor], None]  # (steps done, tokens so far (N, steps done))

CAPACITIES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)  # CUDA batch buckets: one graph each


def _prepared(decoder: ImageDecoder, precision: Precision, dtype: torch.dtype) -> ImageDecoder:
    """The decoder in `dtype` with its matrices fused and stored in the precision's format, once.

    Packed formats take each matrix straight from its loaded dtype (no full-size fp32 copy of the
    decoder on the way: DALL·E Mega's would be 5.9 GB)."""
    if precision.weights in DENSE:
        decoder.to(dtype).prepare(precision.weights)
        return decoder.eval()
    for module in decoder.modules():  # norms and embeddings: the compute dtype
        if not isinstance(module, torch.nn.Linear):
            for name, p in module.named_parameters(recurse=False):
                setattr(module, name, torch.nn.Parameter(p.detach().to(dtype), requires_grad=False))
    decoder.prepare(precision.weights)
    return decoder.eval()


class _WarmedUp(Exception):
    """Ends a warm-up's decoding after its first steps."""


def bucket(n: int, device: torch.device) -> int:
    """Slots to allocate for n images: exact on a CPU (no graphs), the next bucket on CUDA."""
    if device.type != "cuda":
        return n
    return next((c for c in CAPACITIES if c >= n), n)


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
        options: RunnerOptions | None = None,
        max_batch: int = 256,
        keep_states: int = 3,
        step_interval: int | None = None,
    ) -> None:
        """dtype: fp32, bf16, fp16 or int8 (None: see `resolve_precision`); options: CUDA graph and
        compile choices; max_batch: images decoded at once; keep_states: decode states kept (each
        holds its KV cache); step_interval: steps between on_step calls (None: 1, on CUDA 32)."""
        if tokenizer.max_tokens > encoder.config.text_tokens:
            raise ValueError(
                f"tokenizer writes up to {tokenizer.max_tokens} tokens, the encoder has "
                f"{encoder.config.text_tokens} positions"
            )
        self.device = resolve_device(device)
        options = options or RunnerOptions()
        compiled = options.compile != "off"
        self.precision = resolve_precision(dtype, self.device, encoder.config.d_model, compiled=compiled)
        if compiled and self.precision.weights in PACKED:
            log.warning(
                "generation.compile is %r, but %s matrices on this CPU are FBGEMM's packed %s, which "
                "torch.compile cannot trace: the step runs eager (a compiled bf16 step needs AMX; "
                "int8 compiles on any CPU)", options.compile, self.precision.name, self.precision.weights,
            )  # fmt: skip
            options = replace(options, compile="off")
        self.dtype = self.precision.compute
        self.tokenizer = tokenizer
        self.encoder = encoder.to(self.device, self.precision.encoder or self.dtype).eval()
        self.decoder = _prepared(decoder.to(self.device), self.precision, self.dtype)
        self.vqgan = vqgan.to(self.device, self.precision.vqgan).eval()
        if self.device.type == "cuda":
            self.vqgan = self.vqgan.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stubs omit it (documented for Module.to)
        # the model's sizes come from its modules; name and default sampling from `config`
        given = config or ModelConfig(name="model")
        self.config = ModelConfig(encoder.config, vqgan.config, given.name, given.sampling)
        self._rewrite = model_prompt_rewriter(given.name)
        self.encoder_cache_size = encoder_cache_size
        self.vqgan_batch = vqgan_batch
        self.options = options
        self.max_batch = max_batch
        self.keep_states = keep_states
        self.step_interval = step_interval or (32 if self.device.type == "cuda" else 1)
        self._encoded: OrderedDict[tuple[int, ...], torch.Tensor] = OrderedDict()  # ids -> (T, D)
        self._states: OrderedDict[tuple[int, int, bool], tuple[DecodeState, StepRunner]] = OrderedDict()
        self._thread_candidates: list[int] | None = None  # set by use_cpu_threads: tune among these

    def use_cpu_threads(self, threads: int | None = None) -> None:
        """Threads for this process's CPU generation (call at the edge: CLI, worker; torch's thread
        count is process-wide). threads: that many, fixed; None: 1 for a small model (d_model < 512,
        the embedded model, whose steps are too short for OpenMP to pay off), else measured while
        decoding among all cores, half and one (`generation.threads`), which holds its speed when
        other work shares the cores."""
        if self.device.type != "cpu":
            return
        if threads is None and self.config.bart.d_model < SMALL_MODEL_WIDTH:
            threads = 1
        if threads:
            torch.set_num_threads(threads)
            self._thread_candidates = None
        else:
            self._thread_candidates = thread_candidates(available_cores())
            torch.set_num_threads(self._thread_candidates[0])
        self._states.clear()  # runners made before keep no tuner of the old choice

    def thread_switches(self) -> int | None:
        """Thread-count changes the tuners of the kept decode states made (None: no tuner)."""
        tuners = [runner.tuner for _, runner in self._states.values() if runner.tuner is not None]
        return sum(t.switches for t in tuners) if tuners else None

    def step_modes(self) -> list[str]:
        """How each kept decode state's step runs ("eager", "compiled-step", "+graph" on CUDA)."""
        return sorted({runner.mode for _, runner in self._states.values()})

    def thread_tuner(self) -> ThreadTuner | None:
        """A new tuner for one decode state's runner (None: threads fixed, or not on a CPU)."""
        return ThreadTuner(self._thread_candidates) if self._thread_candidates else None

    @classmethod
    def from_components(cls, components: Components, **kwargs: object) -> Pipeline:
        return cls(components.tokenizer, components.encoder, components.decoder, components.vqgan,
                   config=components.config, **kwargs)  # type: ignore[arg-type]  # fmt: skip

    def save_pretrained(self, directory: str | Path) -> None:
        """Write the project's own format (config.json, model.safetensors, tokenizer files)."""
        if self.decoder.weight_format not in DENSE:
            raise ValueError(
                f"a {self.precision.name} pipeline holds packed weights; save one loaded in fp32 or bf16"
            )
        parts = Components(self.config, self.tokenizer, self.encoder, self.decoder, self.vqgan)
        save_components(parts, directory)

    # --- text ---------------------------------------------------------------------------------

    def model_prompt(self, prompt: str) -> str:
        """What the model is given for a prompt: the prompt, or for an embedded model the prompt
        read into its world's own wording (`understanding.model_prompt_rewriter` says when)."""
        if self._rewrite is None:
            return prompt
        rewritten = self._rewrite(prompt, self.tokenizer.encode_with_unknown(prompt).unknown_words)
        return rewritten.caption if rewritten is not None else prompt

    def tokenize(self, prompt: str) -> list[int]:
        """Prompt -> `<s> … </s>` ids (unpadded), of `model_prompt(prompt)`."""
        return self.tokenizer.encode(self.model_prompt(prompt))

    def tokenize_with_unknown(self, prompt: str) -> Encoding:
        """Prompt -> ids and the words the vocabulary does not cover."""
        return self.tokenizer.encode_with_unknown(self.model_prompt(prompt))

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
            out = self.encoder(torch.tensor(todo, device=self.device)).to(self.dtype)  # (len(todo), T, D)
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

    def runner(self, images: int, top_k: int, guided: bool = True) -> tuple[DecodeState, StepRunner]:
        """The (cached) decode state and its runner for `images` slots with candidates for `top_k`."""
        capacity = bucket(images, self.device)
        key = (capacity, sampler.candidate_count(top_k, self.config.bart.image_vocab_size), guided)
        if key in self._states:
            self._states.move_to_end(key)
            return self._states[key]
        while len(self._states) >= self.keep_states:
            self._states.popitem(last=False)
        with torch.inference_mode(False):  # buffers updated in place later, in any mode
            state = self.decoder.new_state(capacity, guided=guided, max_candidates=top_k)
            entry = (state, StepRunner(self.decoder, state, self.options, tuner=self.thread_tuner()))
        log.info("decode state: capacity %d, %d candidates, %s", capacity, key[1], entry[1].mode)
        self._states[key] = entry
        return entry

    def warm_up(self, images: int = 1) -> None:
        """Decode a few steps of `images` images with the default sampling, and one VQGAN pass: the
        one-time work of that batch size (allocating, compiling: ~30 s on a CPU, 13-39 s on CUDA) is
        done before a request waits on it."""

        def stop(step: int, _tokens: torch.Tensor) -> None:
            if step >= 4:
                raise _WarmedUp

        with contextlib.suppress(_WarmedUp):
            self.generate_tokens(["warm up"], images_per_prompt=images, seed=0, on_step=stop)
        self.decode_pixels(torch.zeros(1, self.config.bart.image_tokens, dtype=torch.long))

    @torch.no_grad()  # not inference_mode: the decode states' buffers must stay normal tensors
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
        model's `config.sampling`; cond_scale 1 skips the unconditional rows. on_step runs every
        `step_interval` steps.
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
        defaults = self.config.sampling.for_images(images_per_prompt)  # a grid: the grid temperature
        top_k, temperature, cond_scale = defaults.resolve(top_k, temperature, cond_scale)
        if temperature <= 0:
            raise ValueError("temperature must be > 0")
        top_k = bart.image_vocab_size if top_k <= 0 else min(int(top_k), bart.image_vocab_size)
        seeds = expand_seeds(seed, len(prompts))

        # 2. encode (cached per prompt); image i reads encoder row cond_rows[i], row 0 unconditional
        encoder_out, text_mask = self.encode(prompts)
        cond_rows = torch.arange(1, len(prompts) + 1, device=self.device).repeat_interleave(images_per_prompt)

        # 3. per-image random streams, then decode in chunks of at most max_batch images
        uniforms = draw_uniforms(seeds, images_per_prompt, bart.image_tokens)  # (N, steps)
        out = []
        for first in range(0, cond_rows.shape[0], self.max_batch):
            chunk = slice(first, first + self.max_batch)
            out.append(self._decode(encoder_out, text_mask, cond_rows[chunk], uniforms[chunk], top_k=top_k,
                                    temperature=temperature, cond_scale=cond_scale, start=start,
                                    on_step=on_step))  # fmt: skip
        return torch.cat(out)

    def _decode(
        self, encoder_out: torch.Tensor, text_mask: torch.Tensor, cond_rows: torch.Tensor,
        uniforms: torch.Tensor,
        *, top_k: int, temperature: float, cond_scale: float, start: int, on_step: OnStep | None,
    ) -> torch.Tensor:  # fmt: skip
        n, total = cond_rows.shape[0], self.config.bart.image_tokens
        guided = cond_scale != 1.0  # at 1 the unconditional rows are weighted 0: skip them
        state, runner = self.runner(n, top_k, guided)
        state.position.fill_(total)  # every slot idle …
        rows = torch.cat([torch.zeros_like(cond_rows), cond_rows]) if guided else cond_rows
        self.decoder.admit(  # … then the n images start at step 0
            state, torch.arange(n, device=self.device), encoder_out[rows], text_mask[rows], uniforms=uniforms,
            top_k=torch.full((n,), top_k), temperature=torch.full((n,), float(temperature)),
            cond_scale=torch.full((n,), float(cond_scale)), start_token=start,
        )  # fmt: skip
        done = 0
        while done < total:
            steps = min(self.step_interval if on_step else total, total - done)
            runner.run(steps)
            done += steps
            if on_step is not None:
                on_step(done, state.tokens[:n, :done].clone())
        return state.tokens[:n, :total].clone()

    # --- pixels -------------------------------------------------------------------------------

    @torch.inference_mode()
    def decode_pixels(self, tokens: torch.Tensor) -> torch.Tensor:
        """Image tokens (N, <= image_tokens) -> pixels (N, H, W, 3) uint8 on the device; missing
        trailing tokens (previews) are 0."""
        tokens = torch.as_tensor(tokens, device=self.device).long()
        if tokens.dim() == 1:
            tokens = tokens.unsqueeze(0)
        want = self.config.vqgan.grid**2
        if tokens.shape[1] < want:
            tokens = torch.nn.functional.pad(tokens, (0, want - tokens.shape[1]))
        return torch.cat(
            [self.vqgan(chunk).round().to(torch.uint8) for chunk in tokens.split(self.vqgan_batch)]
        )

    @torch.inference_mode()
    def decode_preview(self, tokens: torch.Tensor) -> list[Image.Image]:
        """The rows decoded so far (N, done) -> N full-size images, the rows not yet drawn grey.

        Only the complete token rows go through the VQGAN, so a preview at a quarter of the steps
        costs about a quarter of a final decode."""
        g = self.config.vqgan.grid
        rows = max(1, min(g, tokens.shape[1] // g))
        if tokens.shape[1] < rows * g:  # not even one row yet: the first row, zero-padded
            tokens = torch.nn.functional.pad(tokens, (0, g - tokens.shape[1]))
        codes = torch.as_tensor(tokens[:, : rows * g], device=self.device).long()
        strips = torch.cat(
            [self.vqgan(chunk).round().to(torch.uint8) for chunk in codes.split(self.vqgan_batch)]
        )
        size = self.config.vqgan.image_size
        images = []
        for strip in strips.cpu():  # (rows * patch, W, 3)
            image = Image.new("RGB", (size, size), (128, 128, 128))
            image.paste(Image.fromarray(strip.numpy()), (0, 0))
            images.append(image)
        return images

    def decode_tokens(self, tokens: torch.Tensor) -> list[Image.Image]:
        """Image tokens (N, <= image_tokens) -> N RGB images."""
        return [Image.fromarray(p.numpy()) for p in self.decode_pixels(tokens).cpu()]

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
    options: RunnerOptions | None = None,
) -> Pipeline:
    """Load a model directory (min-dalle models_root or the project's format; None = embedded model).

    device None -> CUDA when available, else CPU; dtype fp32, bf16, fp16 or int8 (None: half
    precision, or fp32 for a small model on CPU); options: how the step runs (a compiled step on a
    CPU keeps bf16 matrices dense, so it is chosen at load).
    """
    dev = resolve_device(device)
    components = load_components(path)
    pipeline = Pipeline.from_components(components, device=dev, dtype=dtype, options=options)
    log.info("loaded %s (%s) on %s as %s (decoder weights %s)", components.config.name,
             path or "embedded", dev,
             pipeline.precision.name, pipeline.precision.weights)  # fmt: skip
    return pipeline
