"""The image-token decoder: encoder output + image tokens so far -> logits for the next token.

Separately loaded component (min-dalle's `decoder.pt`). Config: `generation.config.BartConfig`.
One module, one set of weights, two ways to run them:

- `forward(image_tokens, encoder_out, text_mask)`: the whole sequence at once, causal, no cache,
  in the module's float weights: the reference (training, exactness tests).
- step decoding: `prepare(format)` once at load fuses q/k/v and the GLU's fc0/fc1 and stores every
  matrix in a weight format (`generation.weights`: fp32, bf16, fp16, fp16-fbgemm, int8);
  `new_state` allocates a `DecodeState` of fixed capacity (static self-attention KV cache
  [rows, heads, 256, head_dim] per layer, cross-attention K/V, per-slot positions); `admit` starts
  images in slots (cross K/V computed once per request); `step` advances every slot one token,
  guidance and top-k sampling included. Slots may be at different steps (continuous batching),
  and `step` only writes tensors `new_state` allocated, so a CUDA graph can replay it.

Rows of a state: [0:B] the unconditional rows of slots 0..B-1, [B:2B] their conditional rows
(only the conditional rows when guidance is off).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from generation import kernels, sampler
from generation.config import BartConfig
from generation.layers import GLU, Attention
from generation.weights import DENSE, PackedWeight, matmul, pack


class DecoderLayer(nn.Module):
    """x + LN(SelfAttn(LN x)); x + LN(CrossAttn(LN x, encoder)); x + GLU(x)."""

    def __init__(self, config: BartConfig) -> None:
        super().__init__()
        d, eps = config.d_model, config.layer_norm_eps
        self.pre_self_attn_layer_norm = nn.LayerNorm(d, eps=eps)
        self.self_attn = Attention(d, config.heads)
        self.self_attn_layer_norm = nn.LayerNorm(d, eps=eps)
        self.pre_encoder_attn_layer_norm = nn.LayerNorm(d, eps=eps)
        self.encoder_attn = Attention(d, config.heads)
        self.encoder_attn_layer_norm = nn.LayerNorm(d, eps=eps)
        self.glu = GLU(d, config.glu_dim, eps)

    def forward(
        self, x: torch.Tensor, cross_k: torch.Tensor, cross_v: torch.Tensor, text_mask: torch.Tensor
    ) -> torch.Tensor:
        """x (B, S, D) causal over S; cross_k/v (B, H, T, hd); text_mask (B, 1, 1, T) -> (B, S, D)"""
        s = x.shape[1]
        h = self.pre_self_attn_layer_norm(x)
        k, v = self.self_attn.keys_values(h)  # (B, H, S, hd)
        mask = torch.ones(s, s, dtype=torch.bool, device=x.device).tril()
        x = x + self.self_attn_layer_norm(self.self_attn.attend(h, k, v, mask))
        h = self.pre_encoder_attn_layer_norm(x)
        x = x + self.encoder_attn_layer_norm(self.encoder_attn.attend(h, cross_k, cross_v, text_mask))
        return x + self.glu(x)


@dataclass
class DecodeState:
    """Static per-batch buffers of step decoding: `capacity` image slots, `pairs` rows per slot."""

    capacity: int
    pairs: int  # 2: unconditional + conditional row per image; 1: guidance off
    candidates: int  # top-k candidates the sampler keeps (generation.sampler.candidate_count)
    k_cache: list[torch.Tensor]  # L × (R, H, S, hd); one tensor per layer (same layout for each)
    v_cache: list[torch.Tensor]
    cross_k: list[torch.Tensor]  # L × (R, H, T, hd)
    cross_v: list[torch.Tensor]
    cross_bias: torch.Tensor  # (R, 1, 1, T): 0 at real text tokens, -inf at padding
    position: torch.Tensor  # (B,) next position per slot; S = idle or finished
    previous: torch.Tensor  # (B,) token fed at the next step
    cond_scale: torch.Tensor  # (B,)
    temperature: torch.Tensor  # (B,)
    top_k: torch.Tensor  # (B,) long
    uniforms: torch.Tensor  # (B, S) each slot's draws
    tokens: torch.Tensor  # (B, S + 1) long; column S takes finished slots' writes
    logits: torch.Tensor | None = None  # (B, V) float32 guided logits of the last step, when kept
    trim: bool = False  # attend only up to the furthest slot's position (eager CPU; graphs need fixed shape)
    fns: dict[str, Any] = field(default_factory=dict)  # the step's parts; a runner may compile them


class ImageDecoder(nn.Module):
    """Image-token embeddings -> LN -> layers -> final LN -> lm_head (no bias).

    Logits cover all `decoder_vocab_size` rows; sampling uses only 0 .. image_vocab_size - 1.
    """

    def __init__(self, config: BartConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.embed_tokens = nn.Embedding(config.decoder_vocab_size, d)
        self.embed_positions = nn.Embedding(config.image_tokens, d)
        self.layers = nn.ModuleList(DecoderLayer(config) for _ in range(config.decoder_layers))
        self.layernorm_embedding = nn.LayerNorm(d, eps=config.layer_norm_eps)
        self.final_ln = nn.LayerNorm(d, eps=config.layer_norm_eps)
        self.lm_head = nn.Linear(d, config.decoder_vocab_size, bias=False)
        self.weight_format: str | None = None  # set by prepare()
        self._step_weights: dict[str, Any] = {}

    def _layers(self) -> list[DecoderLayer]:
        return cast("list[DecoderLayer]", list(self.layers))  # nn.ModuleList yields plain Modules

    # --- the reference: one causal pass ---------------------------------------------------------

    def cross_keys_values(self, encoder_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """encoder_out (B, T, D) -> cross-attention keys, values each (L, B, H, T, hd)."""
        kv = [layer.encoder_attn.keys_values(encoder_out) for layer in self._layers()]
        return torch.stack([k for k, _ in kv]), torch.stack([v for _, v in kv])

    def forward(
        self, image_tokens: torch.Tensor, encoder_out: torch.Tensor, text_mask: torch.Tensor
    ) -> torch.Tensor:
        """image_tokens (B, S) (first = start token), encoder_out (B, T, D), text_mask (B, T) bool
        -> logits (B, S, decoder_vocab_size)."""
        if self.weight_format not in (None, *DENSE):
            raise ValueError(
                f"the full causal pass needs float weights; this decoder holds {self.weight_format} "
                "weights (load it with dtype fp32/bf16/fp16 for training or the reference pass)"
            )
        b, s = image_tokens.shape
        mask = text_mask.view(b, 1, 1, -1)
        cross_k, cross_v = self.cross_keys_values(encoder_out)
        positions = torch.arange(s, device=image_tokens.device)
        x = self.layernorm_embedding(self.embed_tokens(image_tokens) + self.embed_positions(positions))
        for i, layer in enumerate(self.layers):
            x = layer(x, cross_k[i], cross_v[i], mask)
        return self.lm_head(self.final_ln(x))

    # --- step decoding --------------------------------------------------------------------------

    @torch.no_grad()
    def prepare(self, fmt: str) -> None:
        """Fuse and store the step's matrices in weight format `fmt`, once, after `.to(device, dtype)`.

        Dense formats share storage with the module (its parameters become views of the fused
        tensors: no weight is held twice); other formats replace the float matrices, which are
        then gone (the full pass refuses to run)."""
        if self.weight_format is not None:
            raise ValueError(f"decoder weights already prepared as {self.weight_format}")
        share = fmt in DENSE
        if share and self.embed_tokens.weight.dtype != DENSE[fmt]:
            raise ValueError(f"move the decoder to {DENSE[fmt]} before preparing {fmt} weights")

        def fused(linears: list[nn.Linear]) -> PackedWeight:
            parts = [lin.weight for lin in linears]
            packed = pack(torch.cat([p.detach() for p in parts]) if len(parts) > 1 else parts[0], fmt)
            row = 0
            for lin, p in zip(linears, parts, strict=True):
                if share:  # the module's parameter becomes a view of the fused weight
                    lin.weight.data = packed.data[row : row + p.shape[0]]
                else:  # the float weight goes; the module keeps its shape (meta) for state_dict names
                    lin.weight = nn.Parameter(torch.empty(p.shape, device="meta", dtype=p.dtype), False)
                row += p.shape[0]
            return packed

        layers = []
        for layer in self._layers():
            sa, ca, glu = layer.self_attn, layer.encoder_attn, layer.glu
            ln = [layer.pre_self_attn_layer_norm, layer.self_attn_layer_norm,
                  layer.pre_encoder_attn_layer_norm,
                  layer.encoder_attn_layer_norm, glu.ln0, glu.ln1]  # fmt: skip
            norms = [(n.weight.detach(), n.bias.detach()) for n in ln]
            layers.append({
                "norms": norms, "qkv": fused([sa.q_proj, sa.k_proj, sa.v_proj]),
                "self_out": fused([sa.out_proj]), "cross_q": fused([ca.q_proj]),
                "cross_out": fused([ca.out_proj]), "cross_kv": fused([ca.k_proj, ca.v_proj]),
                "glu01": fused([glu.fc0, glu.fc1]), "fc2": fused([glu.fc2]),
            })  # fmt: skip
        v = self.config.image_vocab_size
        head = self.lm_head.weight
        lm_head = pack(head[:v], fmt)  # only sampleable ids; dense: a view of the module's weight
        if not share:
            self.lm_head.weight = nn.Parameter(
                torch.empty(head.shape, device="meta", dtype=head.dtype), False
            )
        self._step_weights = {"layers": layers, "lm_head": lm_head}
        self.weight_format = fmt

    def step_bytes(self) -> int:
        """Bytes of matrix weights one step reads (all but the cross K/V projections): the
        memory-bandwidth floor of a decode step is step_bytes / bandwidth."""
        names = ("qkv", "self_out", "cross_q", "cross_out", "glu01", "fc2")
        layers = sum(layer[n].nbytes for layer in self._step_weights["layers"] for n in names)
        return layers + self._step_weights["lm_head"].nbytes

    def new_state(
        self,
        capacity: int,
        *,
        guided: bool = True,
        max_candidates: int | None = None,
        keep_logits: bool = False,
    ) -> DecodeState:
        """Buffers for `capacity` image slots, all idle; keep_logits: record each step's guided logits."""
        if self.weight_format is None:
            raise ValueError("call decoder.prepare(format) before step decoding")
        cfg = self.config
        device, dtype = self.embed_tokens.weight.device, self.embed_tokens.weight.dtype
        h, hd, L, S, T = cfg.heads, cfg.head_dim, cfg.decoder_layers, cfg.image_tokens, cfg.text_tokens
        pairs = 2 if guided else 1
        B, R = capacity, pairs * capacity
        z: dict[str, Any] = dict(device=device, dtype=dtype)
        return DecodeState(
            capacity=capacity, pairs=pairs,
            candidates=sampler.candidate_count(max_candidates or cfg.image_vocab_size, cfg.image_vocab_size),
            k_cache=[torch.zeros(R, h, S, hd, **z) for _ in range(L)],
            v_cache=[torch.zeros(R, h, S, hd, **z) for _ in range(L)],
            cross_k=[torch.zeros(R, h, T, hd, **z) for _ in range(L)],
            cross_v=[torch.zeros(R, h, T, hd, **z) for _ in range(L)],
            cross_bias=torch.zeros(R, 1, 1, T, **z),
            position=torch.full((B,), S, dtype=torch.long, device=device),
            previous=torch.zeros(B, dtype=torch.long, device=device),
            cond_scale=torch.zeros(B, device=device), temperature=torch.ones(B, device=device),
            top_k=torch.ones(B, dtype=torch.long, device=device), uniforms=torch.zeros(B, S, device=device),
            tokens=torch.zeros(B, S + 1, dtype=torch.long, device=device),
            logits=torch.zeros(B, cfg.image_vocab_size, device=device) if keep_logits else None,
            fns={"embed": embed_step, "layer": layer_step, "head": head_step,
                 "attend": kernels.attention_for(dtype, device, hd)}, trim=device.type == "cpu",
        )  # fmt: skip

    @torch.no_grad()
    def admit(
        self, state: DecodeState, slots: torch.Tensor, encoder_states: torch.Tensor, text_mask: torch.Tensor,
        *,
        uniforms: torch.Tensor, top_k: torch.Tensor, temperature: torch.Tensor, cond_scale: torch.Tensor,
        start_token: int,
    ) -> None:  # fmt: skip
        """Start new images in `slots` (n,) at step 0.

        encoder_states (pairs·n, T, D): rows [0:n] unconditional, [n:2n] conditional (only the n
        conditional rows when not guided); text_mask (pairs·n, T) bool; uniforms (n, S).
        """
        cfg = self.config
        h, hd, dtype = cfg.heads, cfg.head_dim, self.embed_tokens.weight.dtype
        m, t = encoder_states.shape[0], encoder_states.shape[1]
        rows = torch.cat([slots + k * state.capacity for k in range(state.pairs)])  # (pairs·n,)
        if rows.shape[0] != m:
            raise ValueError(
                f"admit: {rows.shape[0]} encoder rows expected ({state.pairs} per image), got {m}"
            )
        x = encoder_states.to(dtype)
        for i, layer in enumerate(self._step_weights["layers"]):
            kv = matmul(x, layer["cross_kv"]).view(m, t, 2, h, hd).permute(2, 0, 3, 1, 4)  # (2, m, H, T, hd)
            state.cross_k[i][rows, :, :t] = kv[0]
            state.cross_v[i][rows, :, :t] = kv[1]
        bias = torch.full((m, 1, 1, state.cross_bias.shape[-1]), float("-inf"), device=x.device, dtype=dtype)
        bias[..., :t] = bias[..., :t].masked_fill(text_mask.view(m, 1, 1, t), 0.0)
        state.cross_bias[rows] = bias
        state.uniforms[slots] = uniforms.to(x.device, torch.float32)
        state.top_k[slots] = top_k.to(x.device)
        state.temperature[slots] = temperature.to(x.device, torch.float32)
        state.cond_scale[slots] = cond_scale.to(x.device, torch.float32)
        state.previous[slots] = start_token
        state.position[slots] = 0

    def step(self, state: DecodeState) -> None:
        """Advance every slot one token; finished slots (position == S) compute and discard."""
        cfg, fns = self.config, state.fns
        x, row_position, self_bias = fns["embed"](
            state.previous, state.position, self.embed_tokens.weight, self.embed_positions.weight,
            self.layernorm_embedding.weight, self.layernorm_embedding.bias, cfg.layer_norm_eps, state.pairs,
        )  # fmt: skip
        # keys past every slot's position are masked anyway: an eager step skips them (on a CPU the
        # attention over all 256 slots would cost as much as a third of a step's weight reads)
        n = int(state.position.max().clamp(max=cfg.image_tokens - 1)) + 1 if state.trim else cfg.image_tokens
        self_bias = self_bias[..., :n]
        for i, w in enumerate(self._step_weights["layers"]):
            k_cache, v_cache = state.k_cache[i][:, :, :n], state.v_cache[i][:, :, :n]  # views: writes land
            x = fns["layer"](x, row_position, self_bias, state.cross_bias, k_cache, v_cache, state.cross_k[i],
                             state.cross_v[i], w, cfg.heads, cfg.layer_norm_eps, fns["attend"])  # fmt: skip
        head = self._step_weights["lm_head"]
        fns["head"](x, self.final_ln.weight, self.final_ln.bias, head, cfg.layer_norm_eps, state)


# The step's three parts are free functions of tensors, so each can be compiled once (the layer
# function serves every layer: same shapes, other weights) and the whole step captured in a graph.


def _ln(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    return F.layer_norm(x, (x.shape[-1],), weight, bias, eps)


def embed_step(
    previous: torch.Tensor, position: torch.Tensor, embed_tokens: torch.Tensor, embed_positions: torch.Tensor,
    ln_weight: torch.Tensor, ln_bias: torch.Tensor, eps: float, pairs: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
    """-> x (R, D), row positions (R,), self-attention bias (R, 1, 1, S): -inf past each row's step."""
    S = embed_positions.shape[0]
    row_position = torch.cat([position.clamp(max=S - 1)] * pairs)  # finished slots redo the last position
    row_token = torch.cat([previous] * pairs)
    x = _ln(embed_tokens[row_token] + embed_positions[row_position], ln_weight, ln_bias, eps)
    future = torch.arange(S, device=x.device)[None, :] > row_position[:, None]  # (R, S)
    bias = torch.zeros(future.shape, device=x.device, dtype=x.dtype).masked_fill(future, float("-inf"))
    return x, row_position, bias[:, None, None, :]


def layer_step(
    x: torch.Tensor, row_position: torch.Tensor, self_bias: torch.Tensor, cross_bias: torch.Tensor,
    k_cache: torch.Tensor, v_cache: torch.Tensor, cross_k: torch.Tensor, cross_v: torch.Tensor,
    w: dict[str, Any], heads: int, eps: float, attend: kernels.Attention = kernels.sdpa_attention,
) -> torch.Tensor:  # fmt: skip
    """One decoder layer for one new position per row: x (R, D) -> (R, D); writes k/v into the caches.
    attend: generation.kernels.Attention (ours on a CPU in fp32, else SDPA)."""
    norms: list[tuple[torch.Tensor, torch.Tensor]] = w["norms"]
    (pre_self, self_ln, pre_cross, cross_ln, ln0, ln1) = norms
    R, d = x.shape
    hd = d // heads
    # self-attention over the static cache
    q, k, v = matmul(_ln(x, *pre_self, eps), w["qkv"]).view(R, 3, heads, hd).unbind(1)  # (R, H, hd) each
    rows = torch.arange(R, device=x.device)
    k_cache[rows, :, row_position] = k  # into (R, H, S, hd) at each row's position
    v_cache[rows, :, row_position] = v
    a = attend(q, k_cache, v_cache, self_bias, row_position + 1)  # (R, H, hd): keys up to each row's step
    x = x + _ln(matmul(a.reshape(R, d), w["self_out"]), *self_ln, eps)
    # cross-attention over the cached encoder keys/values
    q = matmul(_ln(x, *pre_cross, eps), w["cross_q"]).view(R, heads, hd)
    a = attend(q, cross_k, cross_v, cross_bias, None)
    x = x + _ln(matmul(a.reshape(R, d), w["cross_out"]), *cross_ln, eps)
    # GLU
    g0, g1 = matmul(_ln(x, *ln0, eps), w["glu01"]).chunk(2, dim=-1)  # (R, glu) each
    return x + matmul(_ln(F.gelu(g0) * g1, *ln1, eps), w["fc2"])


def head_step(
    x: torch.Tensor, ln_weight: torch.Tensor, ln_bias: torch.Tensor, lm_head: PackedWeight, eps: float,
    state: DecodeState,
) -> None:  # fmt: skip
    """final LN -> logits -> guidance -> top-k sample; writes the token and advances positions in place."""
    S = state.uniforms.shape[1]
    logits = matmul(_ln(x, ln_weight, ln_bias, eps), lm_head)  # (R, V)
    guided = sampler.guide(logits, state.cond_scale) if state.pairs == 2 else logits.float()  # (B, V)
    if state.logits is not None:
        state.logits.copy_(guided)
    position = state.position
    slots = torch.arange(position.shape[0], device=x.device)
    uniform = state.uniforms[slots, position.clamp(max=S - 1)]  # (B,)
    token = sampler.sample_top_k(guided, state.top_k, state.temperature, uniform, state.candidates)
    state.tokens[slots, position] = token  # finished slots (position == S) write to the spare column
    state.previous.copy_(token)
    position.copy_((position + 1).clamp(max=S))
