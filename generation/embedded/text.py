"""The embedded model's text side: a byte-level BPE trained with `tokenizers` on world captions.

The merges come from `tokenizers`' byte-level BPE trainer; the vocabulary then keeps only the
pieces that the engine's tokenizer (`generation.tokenizer.Tokenizer`, which splits on spaces and
BPEs each word) actually produces on the training captions. Everything else becomes `<unk>`,
which is how the engine reports the words this model never saw — the encoder has learned that
`<unk>` carries no meaning (training sprinkles it into captions), so such words are ignored.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

from tokenizers import ByteLevelBPETokenizer

from generation.tokenizer import SPECIALS, Tokenizer, normalize

UNK = "<unk>"


def train_tokenizer(captions: Iterable[str], *, max_tokens: int = 64, vocab_size: int = 2000) -> Tokenizer:
    """Learn merges on the captions and keep the pieces the engine's tokenizer uses on them."""
    corpus = [normalize(c) for c in captions]
    bpe = ByteLevelBPETokenizer(add_prefix_space=True)
    bpe.train_from_iterator(
        corpus, vocab_size=vocab_size, min_frequency=1, show_progress=False, special_tokens=[*SPECIALS, UNK]
    )
    with tempfile.TemporaryDirectory() as tmp:
        bpe.save_model(tmp)
        files = Tokenizer.from_files(Path(tmp) / "vocab.json", Path(tmp) / "merges.txt", max_tokens)
    trained, merges = files.vocab, files.merges
    probe = Tokenizer(trained, merges, max_tokens)
    pieces = sorted({piece for text in set(corpus) for word in text.split(" ") for piece in probe.bpe(word)})
    vocab = {**SPECIALS, UNK: 3, **{piece: i + 4 for i, piece in enumerate(pieces)}}
    return Tokenizer(vocab, merges, max_tokens)


