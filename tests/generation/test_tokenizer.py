"""The BPE tokenizer on a small vocabulary made here; expected ids worked out by hand."""

from __future__ import annotations

import json

import pytest

from generation.tokenizer import Tokenizer, TokenizerError, normalize
from tests.generation import tiny

# ids in tiny.VOCAB: <s>0 <pad>1 </s>2 <unk>3 Ġ4, a5 b6 c7 d8 e9 f10 g11 ... s23 t24 ... _31,
# at32 Ġc33 Ġcat34 Ġd35 og36 Ġdog37 Ġs38 (merge ranks in that order)


@pytest.mark.parametrize(
    ("prompt", "ids"),
    [
        ("A Cat", [0, 4, 5, 34, 2]),  # "a": no (Ġ,a) merge; cat: at, Ġc, Ġcat
        ("dogs", [0, 37, 23, 2]),  # Ġd, og, Ġdog; s stays
        ("sat", [0, 38, 32, 2]),  # at first (rank 0), then Ġs; (Ġs, at) is no merge
        ("café dog", [0, 33, 5, 10, 37, 2]),  # é dropped -> "caf": Ġc a f
        ("🐱", [0, 34, 31, 10, 5, 7, 9, 2]),  # emoji -> "cat_face"
        (" a  cat ", [0, 4, 5, 34, 2]),  # split on single spaces, empty words skipped (as min-dalle)
    ],
)
def test_hand_computed_ids(prompt, ids):
    assert tiny.tokenizer().encode(prompt) == ids


def test_the_word_cache_changes_no_answer_and_is_bounded(monkeypatch):
    from generation import tokenizer as module

    monkeypatch.setattr(module, "MAX_CACHED_WORDS", 2)
    tok = tiny.tokenizer()
    first = [tok.encode(prompt) for prompt in (" a  cat ", "dogs sat", "A Cat")]
    again = [tok.encode(prompt) for prompt in (" a  cat ", "dogs sat", "A Cat")]
    assert first == again == [[0, 4, 5, 34, 2], [0, 37, 23, 38, 32, 2], [0, 4, 5, 34, 2]]
    assert len(tok._word_ids) <= 2 and "" not in tok._word_ids  # runs of spaces never reach the cache


def test_normalize_names_emoji_lowercases_and_drops_non_ascii():
    assert normalize("Ünïcode 🐱 OK") == "ncode cat_face ok"


def test_unknown_pieces_become_unk_and_are_reported():
    enc = tiny.tokenizer().encode_with_unknown("cat! dog")
    assert enc.ids == [0, 34, 3, 37, 2]
    assert enc.unknown_words == ["cat!"]


def test_truncation_keeps_end_token():
    ids = tiny.tokenizer().encode("a " * 20)  # 2 ids per word, max_tokens 12
    assert len(ids) == tiny.BART.text_tokens
    assert ids[0] == 0 and ids[-1] == 2
    assert ids[1:-1] == [4, 5] * 5


def test_pad_batch_pads_with_one():
    assert tiny.tokenizer().pad_batch([[0, 34, 2]], 5) == [[0, 34, 2, 1, 1]]


def test_from_files_reads_version_header(tmp_path):
    tiny.write_tokenizer_files(tmp_path)
    tok = Tokenizer.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt")
    assert len(tok) == len(tiny.VOCAB)
    assert tok.encode("a cat") == [0, 4, 5, 34, 2]


def test_save_round_trip(tmp_path):
    tiny.tokenizer().save(tmp_path)
    tok = Tokenizer.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt", max_tokens=12)
    assert tok.encode("dogs sat 🐱") == tiny.tokenizer().encode("dogs sat 🐱")


@pytest.mark.parametrize(
    ("vocab", "message"),
    [
        ({"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 4}, "not a BPE vocabulary"),  # 5-token trap
        ({"<s>": 0, "<pad>": 1, "</s>": 2, "a": 3, "b": 4, "c": 5}, "'<unk>'"),
        ({"<s>": 1, "<pad>": 0, "</s>": 2, "<unk>": 3, "a": 4, "b": 5}, "'<s>' must have id 0"),
    ],
)
def test_unusable_vocabularies_are_refused(vocab, message):
    with pytest.raises(TokenizerError, match=message):
        Tokenizer(vocab, [("a", "b")])


def test_missing_or_broken_files(tmp_path):
    with pytest.raises(TokenizerError, match="not found"):
        Tokenizer.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt")
    (tmp_path / "vocab.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "merges.txt").write_text("a b\n", encoding="utf-8")
    with pytest.raises(TokenizerError, match="not valid JSON"):
        Tokenizer.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt")
    (tmp_path / "vocab.json").write_text(json.dumps(tiny.VOCAB), encoding="utf-8")
    (tmp_path / "merges.txt").write_text("a b c\n", encoding="utf-8")
    with pytest.raises(TokenizerError, match=r"merges\.txt:1"):
        Tokenizer.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt")
