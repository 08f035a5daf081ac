"""Prompt -> text token ids, the way min-dalle prepares DALL·E Mini prompts.

Byte-level BPE from a directory's `vocab.json` + `merges.txt`. Normalisation: emoji -> their
names (no delimiters), lowercase, non-ASCII dropped, split on single spaces (empty words
skipped), each word encoded with a leading `Ġ`; pieces missing from the vocabulary -> `<unk>`.
Output is `<s> … </s>`, at most `max_tokens` long; when truncating, `</s>` is kept (min-dalle's
plain cut can drop it).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import emoji

SPACE = "Ġ"  # GPT-2 byte-level BPE's stand-in for a leading space
SPECIALS = {"<s>": 0, "<pad>": 1, "</s>": 2}
MAX_CACHED_WORDS = 50_000  # per tokenizer; bounded because the words are anyone's


class TokenizerError(ValueError):
    """The tokenizer files are missing or do not describe a usable BPE vocabulary."""


def normalize(text: str) -> str:
    """Emoji -> names, lowercase, non-ASCII characters dropped."""
    if not text.isascii():  # only non-ASCII text can hold an emoji, and demojize costs ~0.2 ms
        text = emoji.demojize(text, delimiters=("", ""))
    return text.lower().encode("ascii", errors="ignore").decode("ascii")


@dataclass(frozen=True)
class Encoding:
    """Token ids of one prompt and the words that contained pieces outside the vocabulary."""

    ids: list[int]
    unknown_words: list[str]


class Tokenizer:
    """BPE over `vocab` (piece -> id) with merge ranks from `merges` (pairs, best first)."""

    def __init__(self, vocab: dict[str, int], merges: list[tuple[str, str]], max_tokens: int = 64) -> None:
        for piece, expected in (*SPECIALS.items(), ("<unk>", None)):
            if piece not in vocab or (expected is not None and vocab[piece] != expected):
                want = f"id {expected}" if expected is not None else "an id"
                raise TokenizerError(f"vocab.json: '{piece}' must have {want}; wrong tokenizer files?")
        pieces = [p for p in vocab if not (p.startswith("<") and p.endswith(">"))]
        if len(pieces) < 2 or not merges:  # e.g. transformers' silent 5-special-token fallback
            raise TokenizerError(
                f"vocab.json has {len(vocab)} entries and merges.txt {len(merges)} merges: "
                "that is not a BPE vocabulary (wrong files?)"
            )
        if max_tokens < 2:
            raise ValueError("max_tokens must leave room for <s> and </s>")
        self.vocab = vocab
        self.merges = list(merges)
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.max_tokens = max_tokens
        self.bos, self.pad, self.eos = SPECIALS["<s>"], SPECIALS["<pad>"], SPECIALS["</s>"]
        self.unk = vocab["<unk>"]
        self._word_ids: dict[str, tuple[int, ...]] = {}

    @classmethod
    def from_files(cls, vocab_path: Path, merges_path: Path, max_tokens: int = 64) -> Tokenizer:
        """Read a GPT-2/BART style vocab.json and merges.txt (`#version` header line allowed)."""
        for path in (vocab_path, merges_path):
            if not path.is_file():
                raise TokenizerError(f"tokenizer file not found: {path}")
        try:
            vocab = json.loads(vocab_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise TokenizerError(f"{vocab_path}: not valid JSON ({exc})") from exc
        if not isinstance(vocab, dict) or not all(isinstance(v, int) for v in vocab.values()):
            raise TokenizerError(f"{vocab_path}: expected an object mapping token -> integer id")
        merges = []
        for n, line in enumerate(merges_path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or (n == 1 and line.startswith("#version")):
                continue
            parts = line.split()
            if len(parts) != 2:
                raise TokenizerError(f"{merges_path}:{n}: expected two pieces, got {line!r}")
            merges.append((parts[0], parts[1]))
        return cls(vocab, merges, max_tokens)

    def __len__(self) -> int:
        return len(self.vocab)

    def save(self, directory: Path) -> None:
        """Write vocab.json and merges.txt into `directory`."""
        (directory / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        lines = ["#version: 0.2", *(f"{a} {b}" for a, b in self.merges)]
        (directory / "merges.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def bpe(self, word: str) -> list[str]:
        """One word -> its BPE pieces, starting from `Ġ` + characters."""
        pieces = [SPACE, *word]
        while len(pieces) > 1:
            never = len(self.ranks)
            pair = min(itertools.pairwise(pieces), key=lambda p: self.ranks.get(p, never))
            if pair not in self.ranks:
                break
            merged, i = [], 0
            while i < len(pieces):
                if i + 1 < len(pieces) and (pieces[i], pieces[i + 1]) == pair:
                    merged.append(pieces[i] + pieces[i + 1])
                    i += 2
                else:
                    merged.append(pieces[i])
                    i += 1
            pieces = merged
        return pieces

    def word_ids(self, word: str) -> tuple[int, ...]:
        """One normalised word -> its pieces' ids (`<unk>` for a missing piece). The one word cache:
        encoding prompts, reading them (`generation.understanding`) and training all use it."""
        ids = self._word_ids.get(word)
        if ids is None:
            if len(self._word_ids) >= MAX_CACHED_WORDS:
                self._word_ids.clear()
            ids = tuple(self.vocab.get(piece, self.unk) for piece in self.bpe(word))
            self._word_ids[word] = ids
        return ids

    def encode_with_unknown(self, text: str) -> Encoding:
        """Prompt -> `<s> … </s>` ids (<= max_tokens, `</s>` kept) and the words with unknown pieces."""
        body: list[int] = []
        unknown: list[str] = []
        for word in normalize(text).split(" "):
            if not word:  # runs of spaces: min-dalle skips the empty words
                continue
            ids = self.word_ids(word)
            if self.unk in ids and word not in unknown:
                unknown.append(word)
            body.extend(ids)
        body = body[: self.max_tokens - 2]
        return Encoding([self.bos, *body, self.eos], unknown)

    def encode(self, text: str) -> list[int]:
        """Prompt -> `<s> … </s>` ids, at most max_tokens long."""
        return self.encode_with_unknown(text).ids

    def pad_batch(self, rows: list[list[int]], length: int | None = None) -> list[list[int]]:
        """Right-pad every row with `<pad>` (id 1) to `length` (default: max_tokens)."""
        length = length or self.max_tokens
        return [row + [self.pad] * (length - len(row)) for row in rows]
