"""The image-token decoder rewritten for decoding one step at a time at a fixed batch capacity.

Same function as `generation.decoder` (NormFormer BART decoder), built from its state dict, with
what a fast step needs:

- a static self-attention KV cache [layers, rows, heads, 256, head_dim] written in place, and a
  per-row position, so every buffer keeps its address (a CUDA graph can replay the step) and rows
  may be at different steps (requests join at step boundaries: continuous batching);
- cross-attention keys/values computed once per request (`admit`), never per step;
- q/k/v and the GLU's fc0/fc1 fused into one matrix product each; the original module's
  parameters are re-pointed at views of the fused tensors so no weight is held twice;
- the unconditional and conditional rows of every image in one batched pass: rows [0:B] are the
  unconditional rows of slots 0..B-1, rows [B:2B] their conditional rows;
- guidance, top-k and sampling on the device (`sampler`), the next token fed back in place.

`step()` touches only tensors allocated in `__init__`: it is safe to capture and to compile.
"""

from __future__ import annotations

import weakref

import torch
import torch.nn.functional as F
from torch import nn

from generation.config import BartConfig
from generation.fast import sampler


def _ln(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    return F.layer_norm(x, (x.shape[-1],), weight, bias, eps)


class FastDecoder:
    """Decoder weights (shared with the reference module) plus the state of `capacity` slots."""

    def __init__(
        self,
        config: BartConfig,
        module: nn.Module,
        capacity: int,
        *,
        max_candidates: int | None = None,
        share_weights: bool = True,
        guided: bool = True,
    ) -> None:
        """guided False: conditional rows only (every image at cond_scale 1: the unconditional
        row would be multiplied by 0), half the rows."""
        params = dict(module.state_dict(keep_vars=True))
        any_weight = params["embed_tokens.weight"]
        device, dtype = any_weight.device, any_weight.dtype
        mixed = sorted({str(t.dtype) for t in params.values() if t.is_floating_point()} - {str(dtype)})
        if mixed:  # e.g. the engine's CPU layout: bf16 matmul weights, fp32 everything else
            raise ValueError(
                f"the fast decoder needs one dtype for all decoder weights, found {dtype} and {mixed}; "
                "use the reference pipeline (generation.fast.accelerate does so on a CPU)"
            )
        self.config = config
        self.capacity = capacity
        h, hd, L = config.heads, config.head_dim, config.decoder_layers
        S, T = config.image_tokens, config.text_tokens
        self.eps = config.layer_norm_eps
        self.max_candidates = max_candidates or config.image_vocab_size

        def get(name: str) -> torch.Tensor:
            return params[name].detach()

        # Fused weights; the reference module's parameters become views of them (no second copy).
        self.qkv: list[torch.Tensor] = []
        self.glu01: list[torch.Tensor] = []
        for i in range(L):
            p = f"layers.{i}."
            names = [p + f"self_attn.{x}_proj.weight" for x in "qkv"]
            self.qkv.append(_fuse(module, params, names, share_weights))
            names = [p + "glu.fc0.weight", p + "glu.fc1.weight"]
            self.glu01.append(_fuse(module, params, names, share_weights))
        self.layer_weights: list[tuple[torch.Tensor, ...]] = []
        for i in range(L):
            p = f"layers.{i}."
            self.layer_weights.append(
                (
                    get(p + "pre_self_attn_layer_norm.weight"),
                    get(p + "pre_self_attn_layer_norm.bias"),
                    self.qkv[i],
                    get(p + "self_attn.out_proj.weight"),
                    get(p + "self_attn_layer_norm.weight"),
                    get(p + "self_attn_layer_norm.bias"),
                    get(p + "pre_encoder_attn_layer_norm.weight"),
                    get(p + "pre_encoder_attn_layer_norm.bias"),
                    get(p + "encoder_attn.q_proj.weight"),
                    get(p + "encoder_attn.out_proj.weight"),
                    get(p + "encoder_attn_layer_norm.weight"),
                    get(p + "encoder_attn_layer_norm.bias"),
                    get(p + "glu.ln0.weight"),
                    get(p + "glu.ln0.bias"),
                    self.glu01[i],
                    get(p + "glu.ln1.weight"),
                    get(p + "glu.ln1.bias"),
                    get(p + "glu.fc2.weight"),
                )
            )
        # Cross-attention K/V projections of all layers stacked: one product per admitted request.
        self.cross_kv_weight = [
            _fuse(module, params, [f"layers.{i}.encoder_attn.{x}_proj.weight" for x in "kv"], share_weights)
            for i in range(L)
        ]
        self.embed_tokens = get("embed_tokens.weight")
        self.embed_positions = get("embed_positions.weight")
        self.ln_embed = (get("layernorm_embedding.weight"), get("layernorm_embedding.bias"))
        self.final_ln = (get("final_ln.weight"), get("final_ln.bias"))
        self.lm_head = get("lm_head.weight")[: config.image_vocab_size]  # only sampleable ids

        # Per-slot state. Rows: [0:B] unconditional, [B:2B] conditional.
        self.pairs = 2 if guided else 1  # decoder rows per image slot
        B, R = capacity, self.pairs * capacity
        zeros = dict(device=device, dtype=dtype)
        # One allocation per layer (not views of one tensor): a compiled layer function sees the
        # same tensor layout for every layer and is compiled once.
        self.k_cache = [torch.zeros(R, h, S, hd, **zeros) for _ in range(L)]  # L × (R, nh, S, hs)
        self.v_cache = [torch.zeros(R, h, S, hd, **zeros) for _ in range(L)]
        self.cross_k = [torch.zeros(R, h, T, hd, **zeros) for _ in range(L)]  # L × (R, nh, T, hs)
        self.cross_v = [torch.zeros(R, h, T, hd, **zeros) for _ in range(L)]
        self.cross_bias = torch.zeros(R, 1, 1, T, **zeros)  # 0 where the text token is real, -inf at pad
        self.position = torch.full((B,), S, dtype=torch.long, device=device)  # S = idle/finished
        self.previous = torch.zeros(B, dtype=torch.long, device=device)
        self.cond_scale = torch.zeros(B, device=device)
        self.temperature = torch.ones(B, device=device)
        self.top_k = torch.ones(B, dtype=torch.long, device=device)
        self.candidates = sampler.candidate_count(self.max_candidates, config.image_vocab_size)
        self.uniforms = torch.zeros(B, S, device=device)  # one draw per slot and step
        self.tokens = torch.zeros(B, S + 1, dtype=torch.long, device=device)  # column S: finished rows
        # The step's parts; `runner` may swap in compiled versions.
        self.embed_fn = embed_step
        self.layer_fn = layer_step
        self.head_fn = head_step

    @property
    def device(self) -> torch.device:
        return self.embed_tokens.device

    @property
    def dtype(self) -> torch.dtype:
        return self.embed_tokens.dtype

    # ---- admission (outside the captured step) ----

    @torch.no_grad()
    def admit(
        self,
        slots: torch.Tensor,
        encoder_states: torch.Tensor,
        text_mask: torch.Tensor,
        *,
        uniforms: torch.Tensor,
        top_k: torch.Tensor,
        temperature: torch.Tensor,
        cond_scale: torch.Tensor,
        start_token: int,
    ) -> None:
        """Start new images in `slots` [n] at step 0.

        encoder_states [2n, T, d]: rows [0:n] unconditional, [n:2n] conditional (the n images'
        own rows, repeated per image) — only the n conditional rows when not guided;
        text_mask [2n or n, T] bool;
        uniforms [n, S]: each image's draws (`generation.sampling.draw_uniforms`).
        """
        L, h, hd = self.config.decoder_layers, self.config.heads, self.config.head_dim
        T = encoder_states.shape[1]
        rows = torch.cat([slots + k * self.capacity for k in range(self.pairs)])  # (pairs·n,)
        m = rows.shape[0]
        states = encoder_states.to(self.dtype)
        if states.shape[0] != m:
            raise ValueError(f"admit: {m} encoder rows expected ({self.pairs} per image), got {len(states)}")
        for i in range(L):
            kv = states @ self.cross_kv_weight[i].T  # (m, T, 2d)
            kv = kv.view(m, T, 2, h, hd).permute(2, 0, 3, 1, 4)  # (2, m, nh, T, hs)
            self.cross_k[i][rows] = kv[0]
            self.cross_v[i][rows] = kv[1]
        bias = torch.zeros(m, 1, 1, T, device=self.device, dtype=self.dtype)
        self.cross_bias[rows] = bias.masked_fill(~text_mask.view(m, 1, 1, T), float("-inf"))
        self.uniforms[slots] = uniforms.to(self.device, torch.float32)
        self.top_k[slots] = top_k.to(self.device)
        self.temperature[slots] = temperature.to(self.device, torch.float32)
        self.cond_scale[slots] = cond_scale.to(self.device, torch.float32)
        self.previous[slots] = start_token
        self.position[slots] = 0

    # ---- the step (captured / compiled) ----

    def step(self) -> None:
        """Advance every slot by one token; finished slots (position == 256) compute and discard."""
        x, row_position, self_bias = self.embed_fn(
            self.previous, self.position, self.embed_tokens, self.embed_positions, *self.ln_embed, self.eps,
            self.pairs,
        )  # fmt: skip
        for i in range(self.config.decoder_layers):
            x = self.layer_fn(
                x,
                row_position,
                self_bias,
                self.cross_bias,
                self.k_cache[i],
                self.v_cache[i],
                self.cross_k[i],
                self.cross_v[i],
                self.layer_weights[i],
                self.config.heads,
                self.eps,
            )
        self.head_fn(
            x,
            self.final_ln[0],
            self.final_ln[1],
            self.lm_head,
            self.eps,
            self.cond_scale,
            self.top_k,
            self.temperature,
            self.uniforms,
            self.candidates,
            self.position,
            self.previous,
            self.tokens,
            self.pairs,
        )


# The step's three parts are free functions of tensors so each can be compiled once (the layer
# function serves every layer: same shapes, other weights) and the whole step captured in a graph.


def embed_step(
    previous: torch.Tensor,
    position: torch.Tensor,
    embed_tokens: torch.Tensor,
    embed_positions: torch.Tensor,
    ln_weight: torch.Tensor,
    ln_bias: torch.Tensor,
    eps: float,
    pairs: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """-> x (R, d), row positions (R,), self-attention bias (R, 1, 1, S) with -inf past each row's step."""
    S = embed_positions.shape[0]
    slot_position = position.clamp(max=S - 1)  # (B,) finished slots recompute the last position
    row_position = torch.cat([slot_position] * pairs)  # (R,) = (pairs·B,)
    row_token = torch.cat([previous] * pairs)
    x = _ln(embed_tokens[row_token] + embed_positions[row_position], ln_weight, ln_bias, eps)
    future = torch.arange(S, device=x.device)[None, :] > row_position[:, None]  # (R, S)
    bias = torch.zeros(future.shape, device=x.device, dtype=x.dtype).masked_fill(future, float("-inf"))
    return x, row_position, bias[:, None, None, :]


def layer_step(
    x: torch.Tensor,
    row_position: torch.Tensor,
    self_bias: torch.Tensor,
    cross_bias: torch.Tensor,
    k_cache: torch.Tensor,
    v_cache: torch.Tensor,
    cross_k: torch.Tensor,
    cross_v: torch.Tensor,
    w: tuple[torch.Tensor, ...],
    heads: int,
    eps: float,
) -> torch.Tensor:
    """One decoder layer for one new position per row. x (R, d) -> (R, d); writes k/v into the caches."""
    (
        ln_pre_self_w,
        ln_pre_self_b,
        qkv,
        self_out,
        ln_self_w,
        ln_self_b,
        ln_pre_cross_w,
        ln_pre_cross_b,
        cross_q,
        cross_out,
        ln_cross_w,
        ln_cross_b,
        ln0_w,
        ln0_b,
        glu01,
        ln1_w,
        ln1_b,
        fc2,
    ) = w
    R, d = x.shape
    hd = d // heads
    # self-attention over the static cache
    q, k, v = (_ln(x, ln_pre_self_w, ln_pre_self_b, eps) @ qkv.T).view(R, 3, heads, hd).unbind(1)
    rows = torch.arange(R, device=x.device)
    k_cache[rows, :, row_position] = k  # (R, nh, hs) into (R, nh, S, hs) at each row's position
    v_cache[rows, :, row_position] = v
    a = F.scaled_dot_product_attention(q.unsqueeze(2), k_cache, v_cache, attn_mask=self_bias)
    x = x + _ln(a.reshape(R, d) @ self_out.T, ln_self_w, ln_self_b, eps)
    # cross-attention over the cached encoder keys/values
    q = (_ln(x, ln_pre_cross_w, ln_pre_cross_b, eps) @ cross_q.T).view(R, heads, 1, hd)
    a = F.scaled_dot_product_attention(q, cross_k, cross_v, attn_mask=cross_bias)
    x = x + _ln(a.reshape(R, d) @ cross_out.T, ln_cross_w, ln_cross_b, eps)
    # GLU
    g0, g1 = (_ln(x, ln0_w, ln0_b, eps) @ glu01.T).chunk(2, dim=-1)  # (R, glu) each
    return torch.addmm(x, _ln(F.gelu(g0) * g1, ln1_w, ln1_b, eps), fc2.T)  # residual in the GEMM epilogue


def head_step(
    x: torch.Tensor,
    ln_weight: torch.Tensor,
    ln_bias: torch.Tensor,
    lm_head: torch.Tensor,
    eps: float,
    cond_scale: torch.Tensor,
    top_k: torch.Tensor,
    temperature: torch.Tensor,
    uniforms: torch.Tensor,
    candidates: int,
    position: torch.Tensor,
    previous: torch.Tensor,
    tokens: torch.Tensor,
    pairs: int,
) -> None:
    """final LN -> logits -> guidance -> top-k sample; writes the token, advances positions in place."""
    S = uniforms.shape[1]
    logits = _ln(x, ln_weight, ln_bias, eps) @ lm_head.T  # (R, V)
    guided = sampler.guide(logits, cond_scale) if pairs == 2 else logits.float()  # (B, V)
    slots = torch.arange(position.shape[0], device=x.device)
    uniform = uniforms[slots, position.clamp(max=S - 1)]  # (B,)
    token = sampler.sample_top_k(guided, top_k, temperature, uniform, candidates)
    tokens[slots, position] = token  # finished slots (position == S) write to the spare column
    previous.copy_(token)
    position.copy_((position + 1).clamp(max=S))


# module -> names -> fused tensor whose views the module's parameters are: decoders of other
# capacities built over the same module reuse it instead of fusing (and holding) the weights again.
_FUSED: weakref.WeakKeyDictionary[nn.Module, dict[tuple[str, ...], torch.Tensor]]
_FUSED = weakref.WeakKeyDictionary()


def _fuse(module: nn.Module, params: dict[str, torch.Tensor], names: list[str], share: bool) -> torch.Tensor:
    """Weights `names` concatenated along dim 0; with `share`, the parameters become views of it."""
    parts = [params[n] for n in names]
    known = _FUSED.get(module, {}).get(tuple(names))
    if share and known is not None and _views_of(known, parts):
        return known
    fused = torch.cat([p.detach() for p in parts])
    if share:
        row = 0
        for p in parts:
            p.data = fused[row : row + p.shape[0]]
            row += p.shape[0]
        _FUSED.setdefault(module, {})[tuple(names)] = fused
    return fused


def _views_of(fused: torch.Tensor, parts: list[torch.Tensor]) -> bool:
    """Are `parts` still consecutive row blocks of `fused` (not re-pointed by .to() or loading)?"""
    row = 0
    for p in parts:
        block = fused[row : row + p.shape[0]]
        if p.data_ptr() != block.data_ptr() or p.shape != block.shape or p.dtype != block.dtype:
            return False
        row += p.shape[0]
    return row == fused.shape[0]
