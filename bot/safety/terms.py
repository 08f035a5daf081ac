"""The policy's terms in eight languages (data/terms.txt), matched so that respellings still match.

A prompt is folded (invisible characters dropped, NFKC, case and accents folded, kana unified,
look-alike letters mapped toward the script of their word, leetspeak read as letters) and cut
into words. A word matches an entry exactly, by its stem ("desnud*"), with repeated letters
collapsed ("nuuude"), within one dropped, added or swapped letter of a long entry ("nakd",
"sicide"), or by its consonant skeleton ("nekkid" ~ "naked"); the last three only for entries
that refuse or nearly refuse on their own, and never for a common word of the prompt's language
(ordinary.py: "penas" is not "penis"). Letters spaced out ("n a k e d") and short pieces
("tr u p") are joined. Japanese entries are substrings of the text with spaces removed, and a
masking mark ("セッ〇ス") stands for any one character; a short katakana entry does not match inside
a longer katakana word ("フェラ" in "カフェラテ", "ヌード" in "ヌードル").
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from importlib import resources

from bot.safety.ages import ages_under_18
from bot.safety.entries import TERMS_FILE, Entry, Hits, parse_terms
from bot.safety.folding import fold_chunk, fold_text, inside_katakana_word, is_cjk, on_small_kana, word_pieces
from bot.safety.ordinary import LANGUAGES as ORDINARY_LANGUAGES
from bot.safety.ordinary import common_words
from bot.safety.patterns import pattern_kinds
from bot.safety.spelling import (
    collapse,
    deletes,
    doubled_vowel,
    joined_pieces,
    near_enough,
    skeleton,
    stretched,
)
from bot.safety.stems import SNOWBALL, stem
from bot.safety.translit import LatinReadings

# Entries of these kinds are also matched approximately; the others (person, minor, weak words)
# only exactly or by stem, since a near miss of "child" is "chili".
FUZZY_KINDS = frozenset({"sexual.strong", "violence_gore.strong", "self_harm.strong", "hate.strong", "nude"})
# Vowel swaps ("nekkid") are matched by consonant skeleton only for these: a skeleton of three
# letters is shared by ordinary words ("field" and "flayed").
_SKELETON_KINDS = frozenset({"sexual.strong", "nude"})
# Matched only as listed, never by stem: the nouns of self-harm share stems with everyday verbs
# ("cortes", cuts, and "cortou", cut [an onion]).
_STEMLESS_KINDS = frozenset({"allow", "harm.injury", "hanged"})
_MIN_FUZZY = 5
_MEMO_SIZE = 50_000  # letters an entry needs before near misses of it count
_MASKS = "〇○●◯×＊*□■"
# dots and dashes between kana or kanji ("エ.ロ.い"); a mask mark ("セッ*ス") stays for _MASKS
_JAPANESE_DOTS = re.compile(r"(?<=[\u3040-\u30ff\u4e00-\u9fff])[.\-_/]+(?=[\u3040-\u30ff\u4e00-\u9fff])")
_LATIN_MASKS = "*#"  # "f*ck", "j#den": one hidden letter in a word of another script
# "やる" (to do) written with a katakana ヤ and its ending in hiragana is slang for sex ("ヤってる")
_SEX_SLANG_JA = re.compile(r"ヤ[っらりるれろ]")
# a French or Italian elided article or pronoun before a word of three letters or more ("d'études")
_ELISION = re.compile(r"^(?:qu|[dljnsctm])['’][^\W\d_]{3,}[.,;:!?]*$")
_OTHER_SCRIPT_RE = re.compile(r"[a-z0-9]{2,}|[а-яё]{2,}")  # Latin or Cyrillic words inside Japanese text


def _folded_words(text: str) -> list[str]:
    """The prompt's words as the allow entries are matched: folded, split at inner punctuation."""
    return [w for chunk in fold_text(text).split() for w in word_pieces(fold_chunk(chunk)[0])]


class TermIndex:
    """data/terms.txt indexed for fast, respelling-tolerant lookups (a few µs a word)."""

    def __init__(self, entries: Iterable[Entry], known_words: Iterable[str] = ()) -> None:
        """`known_words`: ordinary words, never read as a respelling of an entry ("field", "cumin")."""
        self.known_words = frozenset(known_words)
        self.exact: dict[str, list[Entry]] = defaultdict(list)
        self.prefix: dict[str, list[Entry]] = defaultdict(list)
        self.phrases: dict[tuple[str, ...], list[Entry]] = defaultdict(list)
        self.collapsed: dict[str, list[Entry]] = defaultdict(list)
        self.near: dict[str, list[tuple[str, Entry]]] = defaultdict(list)
        self.skeletons: dict[str, list[tuple[str, Entry]]] = defaultdict(list)
        self.japanese: list[tuple[str, Entry]] = []
        self.japanese_masked: dict[str, list[Entry]] = defaultdict(list)
        self.japanese_allow: list[str] = []
        self.stems: dict[tuple[str, str], list[Entry]] = defaultdict(list)  # (lang, stem)
        self.stem_phrases: dict[tuple[str, tuple[str, ...]], list[Entry]] = defaultdict(list)
        self.masked: dict[str, list[Entry]] = defaultdict(list)  # a word with one letter hidden
        self.latin: LatinReadings[Entry] = LatinReadings()  # Russian and kana entries, as typed in Latin
        self.minor_swaps: dict[str, list[Entry]] = defaultdict(list)  # "chlid": two letters swapped
        self._stem_memo: dict[tuple[str, str], str] = {}
        self._memo: dict[tuple[str, bool], tuple[Entry, ...]] = {}  # prompts reuse the same words
        entries = list(entries)
        # `as_written` lines name entries of other kinds matched as written, never by stem nor as a near
        # miss: Snowball's Italian stem of "tette" is that of "tetto" and "tetti" (roof, roofs)
        self.as_written = {(e.lang, e.text) for e in entries if e.kind == "as_written"}
        for entry in entries:
            if entry.kind != "as_written":
                self._add(entry)
        self.max_phrase = max((len(p) for p in self.phrases), default=1)

    def _add(self, entry: Entry) -> None:
        raw = entry.text
        named = (entry.lang, raw) in self.as_written or ("*", raw) in self.as_written  # "*": every language's
        stemless = entry.kind in _STEMLESS_KINDS or named
        if entry.kind != "allow":
            self.latin.add(entry, stemmed=not stemless)
        if entry.lang == "ja" or any(is_cjk(ch) for ch in raw):
            folded = fold_text(raw).replace(" ", "")
            if entry.kind == "allow":
                self.japanese_allow.append(folded)
                return
            self.japanese.append((folded, entry))
            for i in range(len(folded)):
                self.japanese_masked[folded[:i] + "\0" + folded[i + 1 :]].append(entry)
            return
        is_prefix = raw.endswith("*")
        pieces = fold_text(raw.rstrip("*")).replace("_", " ").split()
        words = tuple(w for piece in pieces for w in word_pieces(fold_chunk(piece)[0]))
        stem_langs: tuple[str, ...] | dict[str, str] = SNOWBALL if entry.lang == "*" else (entry.lang,)
        if stemless:
            stem_langs = ()
        if len(words) > 1:
            self.phrases[words].append(entry)
            if not is_prefix:
                for lang in (lang for lang in stem_langs if lang in SNOWBALL):
                    self.stem_phrases[(lang, tuple(self._stem(lang, w) for w in words))].append(entry)
            return
        word = words[0]
        (self.prefix if is_prefix else self.exact)[word].append(entry)
        if entry.kind == "minor" and not is_prefix and len(word) >= 5:  # "a chlid in lingerie"
            for i in range(1, len(word) - 1):
                self.minor_swaps[word[:i] + word[i + 1] + word[i] + word[i + 2 :]].append(entry)
        if not is_prefix and not stemless:
            for lang in (lang for lang in stem_langs if lang in SNOWBALL):
                if (found := stem(lang, word)) is not None:
                    self.stems[(lang, found)].append(entry)
            if len(word) >= 4:
                for i in range(1, len(word) - 1):  # an inner letter hidden: "f*ck", "ж*дов"
                    self.masked[word[:i] + "\0" + word[i + 1 :]].append(entry)
        if is_prefix or entry.kind not in FUZZY_KINDS:
            return
        short = collapse(word)
        if short != word and len(short) >= 4:
            self.collapsed[short].append(entry)
        if named:  # as written: no near miss either ("Нигера", the country, is one letter from "нигеры")
            return
        if len(short) >= _MIN_FUZZY:
            for key in {short} | deletes(short):
                self.near[key].append((short, entry))
            consonants = skeleton(short)
            if len(consonants) >= 3 and word.isascii() and entry.kind in _SKELETON_KINDS:
                self.skeletons[consonants].append((short, entry))

    @classmethod
    def packaged(cls, known_words: Iterable[str] = (), allow: Iterable[str] = ()) -> TermIndex:
        """The index of bot/safety/data/terms.txt, plus the operator's allow entries (safety.prompt.allow)."""
        text = resources.files("bot.safety").joinpath("data", TERMS_FILE).read_text(encoding="utf-8")
        extra = [Entry("allow", "*", " ".join(a.split()).replace(" ", "_")) for a in allow]
        for lang in ORDINARY_LANGUAGES:  # read now (~0.8 s once a process), not in a prompt's time
            common_words(lang)
        return cls([*parse_terms(text), *extra], known_words)

    def _word(self, word: str, *, fuzzy: bool) -> tuple[Entry, ...]:
        key = (word, fuzzy)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) > _MEMO_SIZE:
                self._memo.clear()
            found = self._memo[key] = tuple(self._lookup(word, fuzzy=fuzzy))
        return found

    def _lookup(self, word: str, *, fuzzy: bool) -> list[Entry]:
        found = list(self.exact.get(word, ()))
        for k in range(3, len(word) + 1):
            found.extend(self.prefix.get(word[:k], ()))
        if found or not fuzzy or len(word) < 4 or word in self.known_words:
            return found
        # a minor's word with two inner letters swapped ("chlid", "toddelr"); a minor only counts
        # beside something sexual, and a swap rarely makes another word
        found.extend(e for e in self.minor_swaps.get(word, ()) if word not in self.exact)
        short = collapse(word)
        if short != word:
            found.extend(self.collapsed.get(short, ()))
            if stretched(word) or doubled_vowel(word):  # "bitte" is not "bite", "nuude" is "nude"
                found.extend(self.exact.get(short, ()))
                for k in range(3, len(short) + 1):
                    found.extend(self.prefix.get(short[:k], ()))
        if found:
            return found
        if short != word and not stretched(word):
            short = word  # "basse": a double letter of the language, not a respelling of "base"
        for key in {short} | deletes(short):
            found.extend(e for term, e in self.near.get(key, ()) if near_enough(term, short))
        if not found and short.isascii():
            found.extend(
                e for term, e in self.skeletons.get(skeleton(short), ())
                if term[0] == short[0] and abs(len(term) - len(short)) <= 1
            )  # fmt: skip
        return found

    def _stem(self, lang: str, word: str) -> str:
        """`word`'s stem in `lang`, or the word itself when the stem is too short to trust."""
        key = (lang, word)
        found = self._stem_memo.get(key)
        if found is None:
            if len(self._stem_memo) > _MEMO_SIZE:
                self._stem_memo.clear()
            found = self._stem_memo[key] = stem(lang, word) or word
        return found

    def match(self, text: str, languages: Iterable[str] = ()) -> tuple[Hits, str]:
        """Every entry the prompt matches (allow phrases taken out first), and the folded text.

        `languages`: the prompt's likely languages; a word also matches an entry of the same stem
        in one of them ("Ratte" the listed "ratten"), a phrase one of the same stems.
        """
        folded = fold_text(text)
        hits = Hits()
        if any(is_cjk(ch) for ch in folded):
            self._match_japanese(folded, hits, fold_text(text, keep_hiragana=True))
        words: list[str] = []  # the main reading, in order, for phrases
        extra: list[str] = []  # other readings: joined punctuation, "l" for "1", joined letters
        elided: list[str] = []  # "d'etudes": never a near miss of "dénudées"
        for chunk in folded.split():
            readings = fold_chunk(chunk)
            parts = word_pieces(readings[0])
            if len(parts) >= 3 and all(len(part) == 1 for part in parts):  # "v.e.i.n.e.s": one word
                parts = ["".join(parts)]
            words.extend(parts)
            if len(parts) > 1:  # an elided article joined ("d'études") is read only as written
                (elided if _ELISION.match(chunk) else extra).append("".join(parts))
            for other in readings[1:]:
                extra.extend(word_pieces(other))
            if len(parts) == 1 and any(is_cjk(ch) for ch in chunk):  # "十字架を囲むkkkの集会"
                extra.extend(_OTHER_SCRIPT_RE.findall(readings[0]))
        blocked = self._allowed_positions(words)
        kept = [w for i, w in enumerate(words) if i not in blocked]
        for n in range(2, self.max_phrase + 1):
            for i in range(len(words) - n + 1):
                if not blocked.intersection(range(i, i + n)):
                    for entry in self.phrases.get(tuple(words[i : i + n]), ()):
                        hits.add(entry)
        stemmed = [lang for lang in languages if lang in SNOWBALL]
        common = [common_words(lang) for lang in languages]
        for word in kept + extra + elided:
            # a common word of the prompt's language is no respelling ("penas" is not "penis")
            found = self._word(word, fuzzy=word not in elided and not any(word in c for c in common))
            if not found:
                found = tuple(
                    _weakened(entry, self._stem(lang, word))
                    for lang in stemmed
                    for entry in self.stems.get((lang, self._stem(lang, word)), ())
                )
            for entry in found:
                hits.add(entry)
        for lang in stemmed:
            stems = [self._stem(lang, w) for w in words]
            for n in range(2, self.max_phrase + 1):
                for i in range(len(words) - n + 1):
                    listed = tuple(words[i : i + n]) in self.phrases  # already counted as written
                    if not listed and not blocked.intersection(range(i, i + n)):
                        for entry in self.stem_phrases.get((lang, tuple(stems[i : i + n])), ()):
                            hits.add(_weakened(entry, " ".join(stems[i : i + n])))
        for chunk in folded.split():
            self._match_masked(chunk, hits)
        for joined in joined_pieces(kept, lambda piece: any(piece in c for c in common)):
            for reading in fold_chunk(joined):  # the pieces may mix scripts: "г o л a я"
                for entry in self._word(reading, fuzzy=False):
                    hits.add(entry)
                for entry in self._spelled_words(reading):
                    hits.add(entry)
        # a word joined across an apostrophe is read too: a soft sign in a transliteration ("mal'chik")
        apostrophes = ["".join(word_pieces(c)) for c in folded.split() if "'" in c and c.isascii()]
        for entry, root in self.latin.match(kept + apostrophes, self.known_words):  # allow entries out
            hits.add(Entry(entry.kind, "*", entry.text) if root is None else _weakened(entry, root))
        for age in ages_under_18(folded):
            hits.add(Entry("minor", "*", age))
        for kind, label in pattern_kinds(folded):
            hits.add(Entry(kind, "*", label))
        return hits, folded

    def _spelled_words(self, run: str) -> Iterable[Entry]:
        """Listed words inside a run of spaced-out letters that spells several words at once
        ("m u j e r d e s n u d a"): every stretch of five letters or more, matched exactly."""
        if len(run) < 8 or len(run) > 60:
            return
        for i in range(len(run) - 4):
            for j in range(i + 5, len(run) + 1):
                if (i, j) != (0, len(run)):
                    yield from self.exact.get(run[i:j], ())

    def _match_masked(self, chunk: str, hits: Hits) -> None:
        """A word with one letter hidden by a mask mark ("j*den", "f#ck") matches the entries it fits."""
        bare = chunk.strip(".,;:!?'\"()[]{}")
        if not any(mask in bare[1:-1] for mask in _LATIN_MASKS) or any(is_cjk(ch) for ch in bare):
            return
        for mask in _LATIN_MASKS:
            if bare.count(mask) == 1:
                letters = fold_chunk(bare.replace(mask, "\0"))[0]
                for entry in self.masked.get(letters, ()):
                    hits.add(entry)

    def without_allowed(self, text: str) -> str:
        """The prompt as its words with the allow entries taken out ("no blood", "sin sangre", "the
        Massacre of the Innocents"), for the n-gram classifier, which reads letters and not the
        entries; the text as written when it holds none (Japanese is not read by the n-grams)."""
        words = _folded_words(text)
        blocked = self._allowed_positions(words)
        return " ".join(w for i, w in enumerate(words) if i not in blocked) if blocked else text

    def allow_split(self, text: str) -> tuple[set[str], set[str]]:
        """The prompt's folded words inside its allow entries and those outside them ("nude" inside
        "bailarinas color nude"): a deny list that matched only words inside has matched an allowed
        phrase."""
        words = _folded_words(text)
        blocked = self._allowed_positions(words)
        return {words[i] for i in blocked}, {w for i, w in enumerate(words) if i not in blocked}

    def _allowed_positions(self, words: list[str]) -> set[int]:
        blocked: set[int] = set()
        for i, word in enumerate(words):
            if any(e.kind == "allow" for e in self.exact.get(word, ())):
                blocked.add(i)
        for n in range(2, self.max_phrase + 1):
            for i in range(len(words) - n + 1):
                if any(e.kind == "allow" for e in self.phrases.get(tuple(words[i : i + n]), ())):
                    blocked.update(range(i, i + n))
        return blocked

    def _match_japanese(self, folded: str, hits: Hits, scripts: str) -> None:
        """Japanese entries as substrings; `scripts`, the same text with hiragana kept, tells
        katakana words apart (see folding.inside_katakana_word)."""
        text = _JAPANESE_DOTS.sub("", "".join(folded.split()))  # "エ.ロ.い": dots between kana
        scripts = _JAPANESE_DOTS.sub("", "".join(scripts.split()))
        if len(scripts) != len(text):
            scripts = ""  # folding changed a length: read without word boundaries
        if _SEX_SLANG_JA.search(scripts):
            hits.add(Entry("sexual.strong", "ja", "ヤる"))
        for allowed in self.japanese_allow:
            text = text.replace(allowed, "|" * len(allowed))
        for term, entry in self.japanese:
            start = text.find(term)
            while start >= 0:
                if not inside_katakana_word(scripts, start, len(term)) and not on_small_kana(scripts, start):
                    hits.add(entry)
                    break
                start = text.find(term, start + 1)
        for i, ch in enumerate(text):
            if ch in _MASKS:
                for length in range(2, 7):
                    for start in range(max(0, i - length + 1), i + 1):
                        window = text[start : start + length]
                        if len(window) == length:
                            key = window[: i - start] + "\0" + window[i - start + 1 :]
                            for entry in self.japanese_masked.get(key, ()):
                                hits.add(entry)


def _weakened(entry: Entry, stem: str) -> Entry:
    """An entry matched by its stem only, named by the stem (several listed forms of one stem
    count once): a word that refuses alone then needs company, since a stem is shared by
    innocent words too ("scopa", a broom, and "scopare")."""
    kind = entry.kind
    if kind.endswith(".strong") and kind != "sexual_minors.strong":
        kind = kind.removesuffix(".strong") + ".weak"
    return Entry(kind, entry.lang, stem + "~")
