"""How the text metrics read a language: tokens, stems, BLEU's tokeniser, articles and normalisation.

rouge-score keeps only a-z and 0-9 and stems with the English Porter stemmer: "hjärtsvikt"
becomes "hj" + "rtsvikt", and a Russian, Greek or Chinese answer identical to its reference
scores ROUGE-L 0. A :class:`Language` says, for one ISO 639-1 code, how to cut text into
tokens (Unicode words; single characters for scripts written without spaces), which
Snowball stemmer to use (nltk, installed with rouge-score) and which sacrebleu tokeniser
suits it. English (and ``None``) keeps the libraries' defaults, so English scores stay
exactly what they were before languages existed.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

ENGLISH = "en"
#: Snowball stemmers of nltk, by ISO 639-1 code (English uses rouge-score's own Porter stemmer).
STEMMERS = {
    "ar": "arabic", "da": "danish", "de": "german", "es": "spanish", "fi": "finnish", "fr": "french",
    "hu": "hungarian", "it": "italian", "nb": "norwegian", "nl": "dutch", "nn": "norwegian", "no": "norwegian",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sv": "swedish",
}
#: Articles dropped before token-F1 and exact match, as SQuAD drops English a/an/the (MLQA's lists where it has one).
ARTICLES = {
    "da": ("en", "et"), "nb": ("en", "ei", "et"), "nn": ("ein", "ei", "eit"), "no": ("en", "ei", "et"),
    "sv": ("en", "ett"), "nl": ("de", "het", "een"),
    "de": ("der", "die", "das", "des", "dem", "den", "ein", "eine", "einer", "eines", "einem", "einen"),
    "es": ("el", "la", "los", "las", "un", "una", "unos", "unas"),
    "fr": ("le", "la", "les", "l", "un", "une", "des"),
    "it": ("il", "lo", "la", "i", "gli", "le", "l", "un", "uno", "una"),
    "pt": ("o", "a", "os", "as", "um", "uma", "uns", "umas"),
    "el": ("ο", "η", "το", "οι", "τα", "του", "της", "των", "τον", "την", "τους", "τις", "ένας", "μια", "μία", "ένα"),
}
#: sacrebleu tokenisers: 13a (English, as before), zh for Chinese, char where the better ones need MeCab.
BLEU_TOKENIZERS = {"zh": "zh", "ja": "char", "ko": "char", "th": "char", "lo": "char", "km": "char", "my": "char"}
DEFAULT_BLEU_TOKENIZER = "intl"  # Unicode punctuation and symbols split off: right for most scripts

_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script
# Scripts written without spaces between words (CJK ideographs, kana, hangul, Thai, Lao, Khmer,
# Myanmar): each character is a token of its own.
_CHARACTER_SCRIPT = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)


@dataclass(frozen=True)
class Language:
    """How the text metrics read one language (an ISO 639-1 code).

    Attributes:
        code: ISO 639-1 code, e.g. ``sv``.
        stemmer: nltk Snowball stemmer name, or None (no stemming).
        bleu_tokenizer: sacrebleu tokeniser name.
        articles: words dropped by :meth:`normalize` (token-F1, exact match).
    """

    code: str
    stemmer: str | None
    bleu_tokenizer: str
    articles: tuple[str, ...]

    @property
    def is_english(self) -> bool:
        return self.code == ENGLISH

    def words(self, text: str) -> list[str]:
        """Lower-cased Unicode word tokens; a character of a script without spaces is a token of its own."""
        text = unicodedata.normalize("NFKC", text).casefold()
        return _WORD.findall(_CHARACTER_SCRIPT.sub(r" \g<0> ", text))

    def normalize(self, text: str) -> str:
        """SQuAD-style normalisation for this language: lower case, no punctuation or symbols, no articles."""
        articles = set(self.articles)
        return " ".join(w for w in self.words(text) if w not in articles)

    def tokenize(self, text: str) -> list[str]:
        """ROUGE's tokens: Unicode words, stemmed when longer than 3 characters (as rouge-score stems)."""
        stem = _stemmer(self.stemmer)
        return [stem(w) if stem and len(w) > 3 else w for w in self.words(text)]


@lru_cache(maxsize=None)
def _stemmer(name: str | None):
    if name is None:
        return None
    from nltk.stem import SnowballStemmer  # nltk comes with rouge-score; imported on first use

    return SnowballStemmer(name).stem


@lru_cache(maxsize=None)
def language(code: str | None) -> Language:
    """The :class:`Language` of an ISO 639-1 code; None means English (the libraries' defaults)."""
    code = (code or ENGLISH).strip().lower()
    if not re.fullmatch(r"[a-z]{2}", code):
        raise ValueError(f"language must be a two-letter ISO 639-1 code such as en, sv or zh, got {code!r}")
    if code == ENGLISH:
        return Language(ENGLISH, "porter", "13a", ("a", "an", "the"))
    return Language(code, STEMMERS.get(code), BLEU_TOKENIZERS.get(code, DEFAULT_BLEU_TOKENIZER), ARTICLES.get(code, ()))


def detect_language(texts: Sequence[str], max_texts: int = 400) -> str:
    """The ISO 639-1 code most of ``texts`` are written in (py3langid, offline, numpy only).

    Each of the first ``max_texts`` texts votes; texts with no letters do not. English where
    nothing can be told.
    """
    import py3langid  # its model loads on import: only when a language must be detected

    votes = Counter(py3langid.classify(t)[0] for t in list(texts)[:max_texts] if any(c.isalpha() for c in t))
    return votes.most_common(1)[0][0] if votes else ENGLISH


__all__ = ["Language", "detect_language", "language"]
