"""Which prompt a date gets: every configured prompt once before any repeats.

The state is a small JSON document kept in storage (its own table), so it survives restarts. A date's
pick is stored before anything is submitted, and the choice among unused prompts is seeded by the
date, so a second firing, a restart half-way, or two processes at once all pick the same prompt.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date


@dataclass
class Rotation:
    used: list[str] = field(default_factory=list)  # prompts posted in the current round
    picked: dict[str, str] = field(default_factory=dict)  # date (ISO) → prompt, the latest few

    @classmethod
    def loads(cls, text: str | None) -> Rotation:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(used=list(data.get("used", [])), picked=dict(data.get("picked", {})))

    def dumps(self) -> str:
        return json.dumps({"used": self.used, "picked": self.picked}, ensure_ascii=False, sort_keys=True)

    def pick(self, day: date, prompts: list[str]) -> str:
        """`day`'s prompt: the one picked for it already, else an unused one (a new round if none is)."""
        if not prompts:
            raise ValueError("no daily prompts: set daily.prompts or daily.prompts_file in config.yaml")
        key = day.isoformat()
        if self.picked.get(key) in prompts:
            return self.picked[key]
        used = [p for p in self.used if p in prompts]  # prompts removed from the config no longer count
        unused = [p for p in prompts if p not in used]
        if not unused:  # a new round; the last one posted does not open it, when there is a choice
            last = used[-1] if used else None
            used, unused = [], [p for p in prompts if p != last] or list(prompts)
        prompt = random.Random(key).choice(unused)
        self.used = [*used, prompt]
        self.picked = dict(sorted({**self.picked, key: prompt}.items())[-14:])
        return prompt
