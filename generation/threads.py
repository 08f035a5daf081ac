"""How many CPU threads a decode step gets: measured while decoding, not fixed at start.

A decode step is hundreds of short parallel regions, and each one waits for its slowest thread.
When anything else runs on the machine (the bot's own web server under a rush of requests, a
second worker, a training job — even at a lower priority), one of torch's threads is often
descheduled, and every region waits for it: on the 2-core AVX512-BF16 EPYC with two `nice`d
processes busy, a DALL·E Mini step took 158-530 ms with 2 threads and 22-31 ms with 1 (5-17x;
`python -m generation.bench --threads 2 auto --busy 2` measures it). With the machine to itself,
2 threads are the faster (21.8 against ~33 ms). Neither fixed number is right for both, so a
`ThreadTuner` times the steps it runs in short windows and, now and then, a probe of a few steps
at another thread count, and keeps whichever is faster. A probe that loses is tried less often
(its interval doubles up to `max_interval`), one that is far slower stops after a single step,
so a steady machine pays about one step in a hundred for staying adaptive.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence

import torch

Advance = Callable[[int], None]  # run n decode steps


def thread_candidates(available: int) -> list[int]:
    """All of the cores, half of them and one, most first: e.g. [2, 1], [8, 4, 1]."""
    return sorted({available, max(1, available // 2), 1}, reverse=True)


def available_cores() -> int:
    """Cores this process may run on (its affinity, which containers and `taskset` narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class ThreadTuner:
    """Runs decode steps at the thread count that currently decodes fastest.

    candidates: thread counts to choose among (the first is tried first); window: steps timed
    at once; probe: steps a probe of another count runs (it stops after one if that step is
    `give_up` times slower than the current count's steps); interval: steps between probes,
    doubled after each lost probe up to max_interval; margin: a probe must be this much faster
    (a fraction) to take over; rise: a window this many times slower than the recent ones
    (the load changed) brings the next probe forward to now, unless the current count is the
    fewest (a noisy machine would otherwise keep probing counts it would not win with).
    set_threads and clock are injectable for tests.
    """

    def __init__(
        self,
        candidates: Sequence[int],
        *,
        window: int = 4,
        probe: int = 2,
        interval: int = 16,
        max_interval: int = 256,
        margin: float = 0.1,
        give_up: float = 2.0,
        rise: float = 1.5,
        set_threads: Callable[[int], None] = torch.set_num_threads,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if not candidates or min(candidates) < 1:
            raise ValueError(f"thread candidates must be positive, got {list(candidates)}")
        self.candidates = list(dict.fromkeys(candidates))
        self.window, self.probe, self.margin, self.give_up, self.rise = window, probe, margin, give_up, rise
        self.min_interval, self.max_interval = interval, max_interval
        self._set, self._clock = set_threads, clock
        self.current = self.candidates[0]
        self._recent: deque[float] = deque(maxlen=3)  # s/step of the current count's last windows
        self._interval = {n: interval for n in self.candidates}
        self._until_probe = probe  # the first probe comes early: a busy machine is found at once
        self._next = 0  # round robin over the other counts
        self.switches = 0

    @property
    def cost(self) -> float | None:
        """Seconds a step at the current count, median of its last windows (None: none timed)."""
        return statistics.median(self._recent) if self._recent else None

    def run(self, steps: int, advance: Advance) -> None:
        """Run `steps` steps through advance(n), timing windows and probing other counts."""
        done = 0
        while done < steps:
            left = steps - done
            if self._until_probe <= 0 and len(self.candidates) > 1 and self._recent:
                done += self._probe(min(self.probe, left), advance)
                continue
            n = min(self.window, left, max(self._until_probe, 1))
            per_step = self._timed(self.current, n, advance) / n
            fewest = self.current == min(self.candidates)  # a busier machine never favours more threads
            if not fewest and self._recent and per_step > self.rise * statistics.median(self._recent):
                self._until_probe = 0  # the machine got busier: look at the other counts now
            else:
                self._until_probe -= n
            self._recent.append(per_step)
            done += n

    def _timed(self, threads: int, n: int, advance: Advance) -> float:
        self._set(threads)
        start = self._clock()
        advance(n)
        return self._clock() - start

    def _probe(self, n: int, advance: Advance) -> int:
        """Time another count for up to n steps; switch to it if it wins. -> steps run."""
        others = [c for c in self.candidates if c != self.current]
        other = others[self._next % len(others)]
        self._next += 1
        current = self.cost or 0.0
        first = self._timed(other, 1, advance)
        ran, took = 1, first
        if n > 1 and first < self.give_up * current:
            took += self._timed(other, n - 1, advance)
            ran = n
        if took / ran < (1 - self.margin) * current:
            self._interval[self.current] = 2 * self.min_interval  # the old count may win back later
            self.current = other
            self._recent.clear()
            self._recent.append(took / ran)
            self.switches += 1
        else:
            self._interval[other] = min(2 * self._interval[other], self.max_interval)
            self._set(self.current)
        self._until_probe = min(self._interval[c] for c in self.candidates if c != self.current)
        return ran
