"""How `ImageDecoder.step` is executed: eager, compiled, CUDA-graph replayed, or both.

Every feature falls back where it is unavailable, and says so once in the log:
- no CUDA device -> no graph; the step runs eagerly (the CPU path stays correct);
- `torch.compile` missing a backend (no Triton, no C compiler) or failing -> the eager step;
- graph capture failing -> the (compiled or eager) step replayed without a graph.

A graph is captured per `DecodeState` (per batch capacity): its buffers keep their addresses,
and the step updates positions and tokens in place, so replaying the graph N times decodes N
tokens with no host synchronisation in between.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch

from generation.decoder import DecodeState, ImageDecoder
from generation.threads import ThreadTuner

log = logging.getLogger(__name__)

Compile = Literal["off", "parts", "step"]


@dataclass(frozen=True)
class RunnerOptions:
    """Which accelerations to try; each is skipped (logged) where unavailable.

    compile: "off"; "parts" compiles the embedding, the layer (once, shared by every layer) and the
    head separately (short compile); "step" compiles the whole step as one graph (fuses across
    layers, compiles longer). compile_backend/compile_mode go to `torch.compile`.
    """

    cuda_graph: bool = True
    compile: Compile = "off"
    compile_backend: str = "inductor"
    compile_mode: str | None = None


class StepRunner:
    """Runs `decoder.step(state)` the fastest available way; `run(n)` advances every slot n tokens."""

    def __init__(
        self,
        decoder: ImageDecoder,
        state: DecodeState,
        options: RunnerOptions | None = None,
        *,
        tuner: ThreadTuner | None = None,
    ) -> None:
        """tuner: choose CPU threads by measurement while running (eager CPU steps only)."""
        self.decoder = decoder
        self.state = state
        self.options = options or RunnerOptions()
        self._step: Callable[[], None] = lambda: decoder.step(state)
        self._graph: torch.cuda.CUDAGraph | None = None
        self.mode = "eager"
        on_cuda = state.position.device.type == "cuda"
        if self.options.compile != "off" or (self.options.cuda_graph and on_cuda):
            state.trim = False  # compiled and captured steps keep every shape fixed
        if self.options.compile != "off":
            self._try_compile()
        if self.options.cuda_graph and state.position.device.type == "cuda":
            self._try_capture()
        self.tuner = tuner if not on_cuda and self.mode == "eager" else None

    def run(self, steps: int) -> None:
        """Advance all slots by `steps` tokens (asynchronous on CUDA)."""
        if self.tuner is not None:
            self.tuner.run(steps, self._advance)
        else:
            self._advance(steps)

    def _advance(self, steps: int) -> None:
        with torch.no_grad():
            if self._graph is not None:
                for _ in range(steps):
                    self._graph.replay()
            else:
                for _ in range(steps):
                    self._step()

    def _try_compile(self) -> None:
        _allow_recompiles()
        fns, opts = self.state.fns, self.options
        # dynamic=None: the first capacity compiles static; a second one recompiles with a symbolic
        # batch size that serves every later capacity (no compile per batch bucket).
        kwargs: dict[str, Any] = dict(
            fullgraph=True, dynamic=None, backend=opts.compile_backend, mode=opts.compile_mode
        )
        tuned_cpu = self.state.position.device.type == "cpu" and opts.compile_backend == "inductor"
        if tuned_cpu and not opts.compile_mode:
            kwargs.pop("mode")
            kwargs["options"] = {"max_autotune": True}
        original = (dict(fns), self._step)
        try:
            if opts.compile == "parts":
                for name in ("embed", "layer", "head"):
                    fns[name] = torch.compile(fns[name], **kwargs)
            else:
                decoder, state = self.decoder, self.state
                compiled = torch.compile(decoder.step, **kwargs)
                if tuned_cpu:  # freezing is read outside torch.compile's options: set it per call
                    self._step = lambda: _frozen(compiled, state)
                else:
                    self._step = lambda: compiled(state)
            with torch.no_grad():
                _with_restored_state(self.state, self._step)  # compile now, not in the timed loop
        except Exception as exc:  # any backend failure: fall back, say why
            log.warning("torch.compile unavailable (%s: %s); using the eager step", type(exc).__name__, exc)
            fns.update(original[0])
            self._step = original[1]
            return
        self.mode = f"compiled-{opts.compile}"

    def _try_capture(self) -> None:
        try:
            device = self.state.position.device
            stream = torch.cuda.Stream(device=device)
            stream.wait_stream(torch.cuda.current_stream(device))
            with torch.no_grad(), torch.cuda.stream(stream):
                for _ in range(2):  # warm-up: kernels chosen, workspaces allocated
                    _with_restored_state(self.state, self._step)
            torch.cuda.current_stream(device).wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            saved = _save_state(self.state)
            with torch.no_grad(), torch.cuda.graph(graph):
                self._step()
            _restore_state(self.state, saved)
        except Exception as exc:
            log.warning(
                "CUDA graph capture failed (%s: %s); replaying the step without a graph",
                type(exc).__name__,
                exc,
            )
            return
        self._graph = graph
        self.mode += "+graph"


# Warm-up and capture run while every slot is idle: an idle slot's cache content is never read
# (a slot's position masks what it has not written), so only these need restoring.
_STATE = ("position", "previous", "tokens")


def _save_state(decoder: DecodeState) -> dict[str, torch.Tensor]:
    return {name: getattr(decoder, name).clone() for name in _STATE}


def _restore_state(decoder: DecodeState, saved: dict[str, torch.Tensor]) -> None:
    for name, value in saved.items():
        getattr(decoder, name).copy_(value)


def _with_restored_state(decoder: DecodeState, step: Callable[[], None]) -> None:
    """Run one step for its side effects on compilation/allocation only, then undo it."""
    saved = _save_state(decoder)
    step()
    _restore_state(decoder, saved)


def _frozen(compiled: Callable[[DecodeState], None], state: DecodeState) -> None:
    """Run a compiled CPU step with Inductor's freezing on: its own GEMMs only pay with the weights
    folded into the graph (prepacked once) and chosen by measurement (max_autotune). Mini, int8, 1
    image, 2-core Xeon with AMX (2026-12-04): tokens 6.2 s eager, 5.7 s compiled by default, 5.7 s
    with max-autotune alone, 4.5-4.7 s with both (Inductor's C++ micro-GEMM beats
    aten._weight_int8pack_mm). FBGEMM's packed products (weights.PACKED) cannot be traced: the
    pipeline does not ask to compile them (logged at load)."""
    with torch._inductor.config.patch(freezing=True):
        compiled(state)


def _allow_recompiles(limit: int = 64) -> None:
    """Raise dynamo's per-function recompile limit (8): capacities, candidate counts and model sizes
    each add a compile of the same functions, and past the limit dynamo silently runs them eagerly."""
    import torch._dynamo  # imported only once compiling is asked for

    config = torch._dynamo.config
    for name in ("recompile_limit", "cache_size_limit"):
        if hasattr(config, name) and getattr(config, name) < limit:
            setattr(config, name, limit)
