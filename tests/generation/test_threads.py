"""The CPU thread tuner: it must find the faster thread count on a busy and on a quiet machine,
follow a change of load, and run exactly the steps asked for."""

from __future__ import annotations

import pytest
import torch

from generation.pipeline import Pipeline
from generation.threads import ThreadTuner, thread_candidates
from tests.generation import tiny


class FakeMachine:
    """Steps cost `cost[threads]` seconds of a fake clock; the cost table can change mid-run."""

    def __init__(self, cost: dict[int, float]) -> None:
        self.cost = cost
        self.now = 0.0
        self.threads = 0
        self.steps = 0
        self.steps_at: dict[int, int] = {}

    def set_threads(self, n: int) -> None:
        self.threads = n

    def clock(self) -> float:
        return self.now

    def advance(self, n: int) -> None:
        self.now += self.cost[self.threads] * n
        self.steps += n
        self.steps_at[self.threads] = self.steps_at.get(self.threads, 0) + n

    def tuner(self, candidates: list[int] | None = None) -> ThreadTuner:
        return ThreadTuner(candidates or [2, 1], set_threads=self.set_threads, clock=self.clock)


def test_candidates_are_all_cores_half_and_one() -> None:
    assert thread_candidates(1) == [1]
    assert thread_candidates(2) == [2, 1]
    assert thread_candidates(8) == [8, 4, 1]


def test_bad_candidates_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        ThreadTuner([])
    with pytest.raises(ValueError, match="positive"):
        ThreadTuner([2, 0])


def test_a_busy_machine_moves_to_one_thread_and_pays_little_for_staying_adaptive() -> None:
    # measured on the 2-core EPYC with two busy processes: 2 threads 158-530 ms a step, 1 thread 22-31
    machine = FakeMachine({2: 0.300, 1: 0.030})
    tuner = machine.tuner()
    tuner.run(256, machine.advance)
    assert machine.steps == 256
    assert tuner.current == 1
    assert machine.threads == 1  # left at the chosen count
    best = 256 * 0.030
    assert machine.now < 1.25 * best, machine.steps_at  # fixed 2 threads: 10x best


def test_a_quiet_machine_keeps_all_cores() -> None:
    machine = FakeMachine({2: 0.0218, 1: 0.033})
    tuner = machine.tuner()
    for _ in range(4):  # four images: lost probes grow rarer
        tuner.run(256, machine.advance)
    assert tuner.current == 2 and tuner.switches == 0
    assert machine.steps == 4 * 256
    assert machine.now < 1.02 * 4 * 256 * 0.0218, machine.steps_at


def test_it_follows_the_load_both_ways() -> None:
    machine = FakeMachine({2: 0.02, 1: 0.033})
    tuner = machine.tuner()
    tuner.run(100, machine.advance)
    assert tuner.current == 2
    machine.cost = {2: 0.4, 1: 0.03}  # another process starts
    before = dict(machine.steps_at)
    tuner.run(40, machine.advance)
    assert tuner.current == 1
    assert machine.steps_at[2] - before.get(2, 0) <= 8  # found within a couple of windows
    machine.cost = {2: 0.02, 1: 0.033}  # it stops
    tuner.run(300, machine.advance)  # the longest probe interval is 256 steps
    assert tuner.current == 2


def test_noise_in_one_window_does_not_flip_the_choice_for_good() -> None:
    machine = FakeMachine({2: 0.02, 1: 0.033})
    tuner = machine.tuner()
    tuner.run(64, machine.advance)
    machine.cost = {2: 0.2, 1: 0.033}  # one hiccup of a few steps
    tuner.run(4, machine.advance)
    machine.cost = {2: 0.02, 1: 0.033}
    tuner.run(256, machine.advance)
    assert tuner.current == 2


def test_three_candidates_settle_on_the_middle_one() -> None:
    machine = FakeMachine({8: 0.2, 4: 0.02, 1: 0.05})
    tuner = machine.tuner([8, 4, 1])
    tuner.run(256, machine.advance)
    assert tuner.current == 4


def test_the_pipeline_tunes_only_where_threads_were_left_to_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import generation.pipeline as pipeline_module

    pipe = Pipeline.from_components(tiny.components(), device="cpu", dtype="fp32")
    before = torch.get_num_threads()
    try:
        pipe.use_cpu_threads()  # a small model: one thread, no tuner
        assert torch.get_num_threads() == 1
        runner = pipe.runner(1, 50)[1]
        assert runner.tuner is None
        pipe.use_cpu_threads(2)  # fixed by the operator: no tuner
        assert pipe.runner(1, 50)[1].tuner is None
        monkeypatch.setattr(pipeline_module, "SMALL_MODEL_WIDTH", 0)  # as if it were a published model
        pipe.use_cpu_threads()
        runner = pipe.runner(1, 50)[1]
        assert runner.tuner is not None
        tokens = pipe.generate_tokens("a cat", seed=3)
        assert tokens.shape == (1, pipe.config.bart.image_tokens)
        assert runner.tuner.cost is not None  # it timed the steps it ran
    finally:
        torch.set_num_threads(before)


def test_a_noisy_machine_at_one_thread_does_not_keep_probing() -> None:
    machine = FakeMachine({2: 0.3, 1: 0.03})
    tuner = machine.tuner()
    tuner.run(64, machine.advance)
    assert tuner.current == 1
    two_before = machine.steps_at[2]
    for i in range(256 // 4):  # every other window of 1-thread steps is 3x slower (other jobs' bursts)
        machine.cost = {2: 0.3, 1: 0.09 if i % 2 else 0.03}
        tuner.run(4, machine.advance)
    assert machine.steps_at[2] - two_before <= 3  # only the scheduled probes, which give up after a step
