"""SafetyFilter: the one interface the bot uses for the prompt gate and the image gate.

Components are passed in (the policy's terms, a language identifier, the English lexicon and
prompt model, an image classifier), so tests build the filter from tiny stand-ins;
`from_settings` builds the real one. Every decision is a Verdict carrying the gate, the
category, the score and the threshold, which the worker records with the request.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from typing import Literal

from PIL import Image

from bot.safety.classifier import PromptModel
from bot.safety.contexts import innocent_senses
from bot.safety.entries import Entry, Hits
from bot.safety.folding import fold_chunk
from bot.safety.image import ImageClassifier, OpenNsfwClassifier
from bot.safety.language import LanguageIdentifier
from bot.safety.ngrams import NgramModel
from bot.safety.normalize import disguised, normalize
from bot.safety.patterns import name_drinks
from bot.safety.policy import PRECEDENCE, REASONS, Category
from bot.safety.rules import anchored, bird_words, categorise, names_a_bird
from bot.safety.semantic import SemanticClassifier
from bot.safety.settings import SafetySettings
from bot.safety.terms import TermIndex
from bot.safety.train_ngrams import ordinary_training_words
from bot.safety.wordlists import Lexicon, Term

log = logging.getLogger(__name__)
# where a prompt's clauses end, and the longest piece the second opinion judges whole (in words)
_CLAUSES = re.compile(r"[,;.!?\n、。，；！？]+")
WINDOW = 6
# violence beside a judged word ("massacrée à la hache"): the word is meant as written, not judged again
_VIOLENT_BESIDE = ("violence_gore.weak", "maim", "blood", "innards", "spill", "decay", "weapon", "gun",
                   "corpse", "kill_act", "killer", "devour", "gutted", "pieces", "wounded", "maul",
                   "chainsaw", "saw_cut", "red_water", "remains", "perpetrator", "torture_tool")  # fmt: skip


def _pieces(text: str) -> list[str]:
    """The prompt itself when it has at most WINDOW words and one clause; else its clauses, each cut
    into windows of WINDOW words that overlap by half (the last one reaching the clause's end)."""
    clauses = [c.split() for c in _CLAUSES.split(text)]
    clauses = [c for c in clauses if c]
    if len(clauses) <= 1 and len(text.split()) <= WINDOW:
        return [text]
    out = []
    for words in clauses:
        starts = range(0, max(len(words) - WINDOW, 0) + 1, WINDOW // 2)
        out += [" ".join(words[i : i + WINDOW]) for i in starts]
        if len(words) > WINDOW and (len(words) - WINDOW) % (WINDOW // 2):
            out.append(" ".join(words[-WINDOW:]))
    return out


def _may_overrule(
    text: str, blocking: set[Category], listed: str | None, hits: Hits, languages: frozenset[str]
) -> bool:
    """Whether the second opinion may judge a refusal by the terms: never for sexual_minors; nor for
    the deny lists (the operator's, and the built-in list of explicit words) or the English classifier
    (`listed`): those words are seldom innocent, and a sentence's meaning is diluted by innocent words
    around them ("porn watercolor of a lake"); nor for a word that refuses alone in the policy's terms
    ("porno", "fellation", "ポルノ") unless all are violence with an everyday sense (`judged`: a pine
    "torturé" by the wind), no violence beside; nor for a word in disguise, which the encoder cannot read.
    Left are refusals built from words that need a second one (nude + a person), and judged ones."""
    if listed is not None or Category.SEXUAL_MINORS in blocking:
        return False
    judged = hits.words("judged", languages)
    for kind in hits.by_kind:
        strong = hits.words(kind, languages) if kind.endswith(".strong") else set()
        if strong and (kind != "violence_gore.strong" or not strong <= judged):
            return False
        if strong and any(hits.words(beside, languages) for beside in _VIOLENT_BESIDE):
            return False
    return not disguised(text)


Gate = Literal["prompt", "image"]
ImageAction = Literal["post", "spoiler", "block"]

PROMPT_REFUSED = REASONS[Category.SEXUAL]
IMAGE_BLOCKED = "The image was not posted: the safety check flagged it as possibly explicit."
IMAGE_SPOILERED = "The safety check flagged this image as possibly explicit, so it is behind a spoiler."


class SafetyUnavailable(Exception):
    """A gate could not decide (its classifier failed): nothing may be posted."""


@dataclass(frozen=True)
class Verdict:
    """One gate's decision, with what is needed to audit and tune it."""

    gate: Gate
    allowed: bool
    score: float  # 1.0 for a word-list hit; otherwise the classifier's probability
    threshold: float
    reason: str  # fit to show the user when not allowed
    detail: str | None = None  # for the operator: the list entry or classifier that decided
    category: Category | None = None  # the prompt gate's refused category (None when allowed)

    @property
    def flagged(self) -> bool:
        return not self.allowed

    def record(self, action: str) -> dict[str, object]:
        """The fields Store.record_safety / Store.complete(safety=[...]) take."""
        return {
            "gate": self.gate,
            "score": self.score,
            "threshold": self.threshold,
            "flagged": self.flagged,
            "action": action,
        }


class SafetyFilter:
    """Prompt gate before queueing, image gate before posting; policy from SafetySettings."""

    def __init__(
        self,
        settings: SafetySettings,
        *,
        lexicon: Lexicon | None,
        prompt_model: PromptModel | None,
        image_classifier: ImageClassifier | None,
        terms: TermIndex | None = None,
        languages: LanguageIdentifier | None = None,
        ngram_model: NgramModel | None = None,
        semantic: SemanticClassifier | None = None,
    ) -> None:
        self.settings = settings
        self.lexicon = lexicon
        self.prompt_model = prompt_model
        self.image_classifier = image_classifier
        if terms is None and settings.prompt.enabled and prompt_model is not None:
            # Words seen in ordinary prompts are never read as respellings ("field" is not "flayed").
            known = prompt_model.ordinary_words() | ordinary_training_words()
            terms = TermIndex.packaged(known, allow=settings.prompt.allow)
        self.terms = terms
        self.languages = languages or LanguageIdentifier()
        self.ngram_model = ngram_model  # None: the rules and the English classifier decide alone
        self.semantic = semantic  # None: no reading of a prompt's meaning beyond its terms
        if settings.prompt.enabled and (lexicon is None or prompt_model is None):
            raise ValueError("the prompt gate is enabled but no lexicon or prompt model was given")
        if settings.image.enabled and image_classifier is None:
            raise ValueError("the image gate is enabled but no image classifier was given")
        if not settings.prompt.enabled:
            log.warning("safety.prompt.enabled is false in config: prompts are NOT checked before queueing")
        if not settings.image.enabled:
            log.warning("safety.image.enabled is false in config: images are posted WITHOUT a safety check")

    @classmethod
    def from_settings(
        cls, settings: SafetySettings, *, image_classifier: ImageClassifier | None = None
    ) -> SafetyFilter:
        """Build the filter config asks for: packaged word lists and model, Open-NSFW on CPU."""
        lexicon = prompt_model = ngram_model = semantic = None
        if settings.prompt.enabled:
            prompt_model = PromptModel.packaged()
            lexicon = Lexicon.build(settings.prompt.deny, settings.prompt.allow, prompt_model.vocabulary())
            ngram_model = NgramModel.packaged()
            if settings.prompt.semantic:
                prompt = settings.prompt
                semantic = SemanticClassifier.packaged(
                    prompt.semantic_threshold,
                    prompt.semantic_vote_weight,
                    prompt.semantic_clear_below,
                    prompt.semantic_ngram_clear_below,
                )
            else:
                log.warning("safety.prompt.semantic is false in config: prompts are judged by terms only")
        if settings.image.enabled and image_classifier is None:
            image_classifier = OpenNsfwClassifier()
        return cls(
            settings,
            lexicon=lexicon,
            prompt_model=prompt_model,
            image_classifier=image_classifier,
            ngram_model=ngram_model,
            semantic=semantic,
        )

    def check_prompt(self, text: str, *, platform: str | None = None, nsfw_channel: bool = False) -> Verdict:
        """Decide whether a prompt may be queued here: terms by language and rules, then the classifier.

        `platform` and `nsfw_channel` select the overrides of safety.prompt.platforms and
        safety.prompt.nsfw_channels; `sexual_minors` is refused whatever they say.
        """
        return self._check(text, platform, nsfw_channel, terms_only=False)

    def _check(self, text: str, platform: str | None, nsfw_channel: bool, *, terms_only: bool) -> Verdict:
        """check_prompt; with `terms_only` the terms, rules and n-grams alone (no sentence classifier)."""
        threshold = self.settings.prompt.threshold
        if not self.settings.prompt.enabled:
            return Verdict("prompt", True, 0.0, threshold, "prompt gate disabled in config", "disabled")
        assert self.lexicon is not None and self.prompt_model is not None and self.terms is not None
        # 1. drinks named after sex named as drinks; which languages the words are to be read in
        text = name_drinks(text)
        languages = self.languages.identify(text)
        # 2. the policy's terms, respellings folded; the operator's lists and the English classifier
        hits, folded = self.terms.match(text, languages.likely)
        match = self.lexicon.match(normalize(text))
        score = self.prompt_model.score(match.tokens) if "en" in languages.likely else 0.0
        # The English deny list (its evasion repairs included) refuses alone, except for words the
        # rules weigh in context ("nude" needs a person): those join the matched terms instead.
        deny, listed = match.deny, None
        if deny is not None and deny.source != "config":
            # "a colony of nesting boobies": the seabird; "Intercourse, Pennsylvania": a town;
            # "bailarinas color nude": a word inside an allow entry of the terms (every language)
            birds = bird_words(hits, languages.likely)
            senses = innocent_senses(lambda kind: hits.words(kind, languages.likely), hits.by_kind)
            named = any(m and all(names_a_bird(w, m) for w in deny.words) for m in (birds, senses))
            if named or self._only_allowed(text, deny):
                deny = None
        if deny is not None:
            contextual = [] if deny.source == "config" else self._contextual(deny.words)
            for entry in contextual:
                hits.add(entry)
            listed = None if contextual else f"{deny.source} deny list: {deny.entry!r}"
        if listed is None and score >= threshold:
            listed = f"classifier {score:.3f}"
        # 3. the combination rules; the n-gram classifier, in the categories a term anchors, but
        # not `sexual`: its word lists are the longest, and the English classifier judges it
        # too; with the n-grams as well it refused more look-alikes than it caught prompts
        found = categorise(hits, languages.likely, sexual_signal=listed, text=folded)
        ngram_scores: dict[Category, float] = {}
        open_categories = {c for c in anchored(hits, languages.likely, folded) if c not in found}
        open_categories.discard(Category.SEXUAL)
        if self.ngram_model is not None and open_categories:  # most prompts anchor nothing: no scoring
            scores = self.ngram_model.flagged(self.terms.without_allowed(text))
            for category in open_categories:
                if category.value in scores:
                    ngram_scores[category] = scores[category.value]
                    found[category] = f"n-gram classifier {scores[category.value]:.3f}"
        # 4. what is refused on this platform and channel; a refusal by the terms and rules that the
        # multilingual sentence classifier (semantic.py) reads as clearly innocent is overruled (the
        # second opinion, within the limits below); where nothing refused the prompt, its meaning
        refused = self.settings.prompt.refused(platform, nsfw_channel)
        semantic_score = 0.0
        overruled = ""
        blocking = found.keys() & refused
        semantic = None if terms_only else self.semantic
        # the second opinion, only for a refusal it may judge (listed: a deny list or the English
        # classifier); the checks run only when the terms refused
        if (
            semantic is not None
            and blocking
            and _may_overrule(text, blocking, listed, hits, languages.likely)
        ):
            ngram_only = all(found[c].startswith("n-gram") for c in blocking)
            by_judged = bool(hits.words("violence_gore.strong", languages.likely))  # all judged words here
            cleared = self._second_opinion(
                semantic, text, refused, platform, nsfw_channel, ngram_only=ngram_only, judged=by_judged
            )
            if cleared is not None:
                overruled = f"; overruled by the semantic classifier {cleared:.3f}: " + ", ".join(
                    f"{c.value}: {found.pop(c)}" for c in PRECEDENCE if c in blocking
                )
        if semantic is not None and not found.keys() & refused and not overruled:
            judged = semantic.judge(text, refused)
            if judged is not None:
                category, semantic_score = judged
                found[category] = f"semantic classifier {semantic_score:.3f}"
        detail = f"languages {','.join(sorted(languages.likely))}; classifier {score:.3f}"
        for category in PRECEDENCE:
            if category in found and category in refused:
                detail += f"; {category.value}: {found[category]}"
                if category is Category.SEXUAL_MINORS and not terms_only:
                    log.warning(
                        "prompt refused as sexual_minors (%s, platform %s)", found[category], platform
                    )
                if category in ngram_scores and self.ngram_model is not None:
                    score, threshold = ngram_scores[category], self.ngram_model.threshold
                elif found[category].startswith("semantic") and self.semantic is not None:
                    score, threshold = semantic_score, self.semantic.threshold
                elif not found[category].startswith("classifier"):
                    score = 1.0  # a rule decided
                return Verdict("prompt", False, score, threshold, REASONS[category], detail, category)
        detail += overruled
        if found:
            detail += "; allowed here: " + ", ".join(sorted(c.value for c in found))
        if match.allowed:
            detail += "; allow list: " + ", ".join(repr(t.entry) for t in match.allowed)
        return Verdict("prompt", True, score, threshold, "", detail)

    def _second_opinion(
        self,
        semantic: SemanticClassifier,
        text: str,
        refused: frozenset[Category],
        platform: str | None,
        nsfw_channel: bool,
        *,
        ngram_only: bool,
        judged: bool = False,
    ) -> float | None:
        """The sentence classifier's score when it clears a prompt the terms refuse, else None.

        Innocent words added around an unsafe phrase ("explicit sex between two adults in a museum,
        art history lesson, ...") pull a whole prompt's meaning below clear_below. So a prompt longer
        than WINDOW words is cut into its clauses and each clause into windows of WINDOW words
        (half overlapping); each piece the terms refuse by itself must be cleared too, in the category
        it is refused for (a short piece read as another category says nothing of this refusal), and
        at least one must be refused (a refusal earned only by words far apart is not overruled).

        A refusal by the n-grams alone (`ngram_only`: no term or rule refused, the n-gram classifier
        did in a category a term anchors) is judged on the whole prompt: the n-grams read the whole
        prompt's letters, and its pieces, read alone, were refused by n-grams that no longer see the
        rest. Those refusals are judged against the head's ngram_clear_below (chosen apart by
        train_semantic since 2026-12-06, 0.39 there: out of fold it freed 78 of the 98 safe training
        prompts the n-grams alone refused and let 21 of their 1,119 unsafe ones through), and none
        of the prompt's clauses may be read as a refused category: cheerful clauses around "a man's
        body going into the meat grinder" pulled the whole prompt under that bar.

        A refusal by judged words needs its pieces only not to read as violence (a piece under MIN_WORDS
        words never clears): six words cut from "un pin torturé par le vent" lose the wind."""
        if judged:  # clear of violence, and not read as another refused category either
            violence = frozenset({Category.VIOLENCE_GORE})
            whole = None if semantic.reads_as(text, refused) else semantic.clears(text, violence)
        else:
            whole = semantic.clears(text, refused, ngram_only=ngram_only)  # most end here: no piece looked at
        if whole is None:
            return None
        if ngram_only:  # no clause may read as a refused category ("..., a body in the meat grinder, ...")
            clauses = [c for c in _CLAUSES.split(text) if c.strip()]
            return None if len(clauses) > 1 and any(semantic.judge(c, refused) for c in clauses) else whole
        pieces = _pieces(text)
        if len(pieces) == 1:
            return whole
        verdicts = [self._check(p, platform, nsfw_channel, terms_only=True) for p in pieces]
        parts = [(p, v.category) for p, v in zip(pieces, verdicts, strict=True) if not v.allowed]
        if not parts or any(v.category is Category.SEXUAL_MINORS for v in verdicts):
            return None
        if judged:
            read = [semantic.reads_as(p, refused if c is None else frozenset({c})) for p, c in parts]
            return None if any(read) else whole
        scores = [whole, *(semantic.clears(p, refused if c is None else frozenset({c})) for p, c in parts)]
        return None if any(s is None for s in scores) else max(s for s in scores if s is not None)

    def _only_allowed(self, text: str, deny: Term) -> bool:
        """Whether every word a built-in deny entry matched occurs only inside the terms' allow entries
        (which hold for every language: the English deny list knows only its own, allow.txt). A prefix
        entry ("porn*" in "Pornic", a town) names its stem: no word outside them may begin with it."""
        assert self.terms is not None
        inside, outside = self.terms.allow_split(text)
        *whole, last = [fold_chunk(w)[0] for w in deny.words]
        if deny.prefix:  # no word outside may begin with it
            begins = [w for w in (*inside, *outside) if w.startswith(last)]
            last_inside = bool(begins) and all(w in inside and w not in outside for w in begins)
        else:
            last_inside = last in inside and last not in outside
        return last_inside and all(w in inside and w not in outside for w in whole)

    def _contextual(self, words: tuple[str, ...]) -> list[Entry]:
        """The terms a deny entry stands for when the rules weigh it in context (nudity, "sexy")."""
        assert self.terms is not None
        return [
            entry
            for word in words
            for entry in (*self.terms.exact.get(word, ()), *self.terms.exact.get(word[:-1], ()))
            if entry.kind in ("nude", "suggestive")
        ]

    def check_image(self, image: Image.Image) -> Verdict:
        """Score a generated image; raises SafetyUnavailable if the classifier fails (fail closed)."""
        threshold = self.settings.image.threshold
        if not self.settings.image.enabled:
            return Verdict("image", True, 0.0, threshold, "image gate disabled in config", "disabled")
        assert self.image_classifier is not None
        name = getattr(self.image_classifier, "name", type(self.image_classifier).__name__)
        try:
            score = float(self.image_classifier.score(image))
        except Exception as exc:
            log.exception("image safety classifier %s failed; the image will not be posted", name)
            message = f"the image safety check failed ({name}: {exc}); nothing was posted"
            raise SafetyUnavailable(message) from exc
        if not math.isfinite(score) or not 0.0 <= score <= 1.0:
            log.error("image safety classifier %s returned %r; the image will not be posted", name, score)
            raise SafetyUnavailable(f"the image safety check returned an invalid score ({name}: {score!r})")
        allowed = score < threshold
        reason = "" if allowed else IMAGE_BLOCKED
        return Verdict("image", allowed, score, threshold, reason, f"{name} {score:.3f}")

    def image_action(self, verdict: Verdict, *, platform: str, nsfw_channel: bool) -> ImageAction:
        """What to do with an image: post it, or, when flagged, a spoiler where allowed, else block."""
        if verdict.gate != "image":
            raise ValueError(f"image_action needs an image verdict, got a {verdict.gate!r} one")
        if verdict.allowed:
            return "post"
        if nsfw_channel and platform in self.settings.image.spoiler_in_nsfw_channels:
            return "spoiler"
        return "block"
