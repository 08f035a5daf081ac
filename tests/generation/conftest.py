from __future__ import annotations

import os

import pytest
import torch


@pytest.fixture(autouse=True)
def no_kernel_build(monkeypatch):
    """Building generation.cpu's C++ kernel takes 30-100 s the first time on a 2-core machine;
    only test_cpu.py's opt-in test (DALLEBOT_TEST_CPU_KERNEL=1) builds it."""
    if os.environ.get("DALLEBOT_TEST_CPU_KERNEL") != "1":
        monkeypatch.setenv("DALLEBOT_CPU_KERNEL", "0")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from threads, and on a shared 2-core machine the OpenMP hand-offs
    cost more than the maths; restored afterwards so other packages' tests are unaffected."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
