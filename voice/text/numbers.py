"""Numbers both ways: number words to digits for matching, digits to words for the recogniser."""

from __future__ import annotations

from voice.text.language import Language


class Numbers:
    """Number words of one language (0-999)."""

    def __init__(self, language: Language) -> None:
        self._ones = language.units
        self._tens = ("", "", *language.tens)
        self._unit_value = {word: value for value, word in enumerate(language.units)}
        self._tens_value = {word: 10 * (value + 2) for value, word in enumerate(language.tens)}
        self._one = language.units[1]
        self._hundred = "hundred"

    def to_digits(self, words: list[str]) -> list[str]:
        """Turn number words into digits: "twenty five" -> "25", "fifteen" -> "15"."""
        units, tens = self._unit_value, self._tens_value
        out: list[str] = []
        i = 0
        while i < len(words):
            word = words[i]
            if word in tens:
                value = tens[word]
                if i + 1 < len(words) and words[i + 1] in units and 0 < units[words[i + 1]] < 10:
                    value += units[words[i + 1]]
                    i += 1
                out.append(str(value))
            elif word in units and word != self._one:
                # "one" stays a word: "the one on the left" is not a number.
                out.append(str(units[word]))
            elif word == self._hundred and out and out[-1].isdigit():
                out[-1] = str(int(out[-1]) * 100)
            else:
                out.append(word)
            i += 1
        return out

    def to_words(self, n: int) -> str:
        """Spell 0-999 the way people say it ("15" -> "fifteen")."""
        if n < 20:
            return self._ones[n]
        if n < 100:
            tens, ones = divmod(n, 10)
            return self._tens[tens] + ("" if ones == 0 else f" {self._ones[ones]}")
        hundreds, rest = divmod(n, 100)
        tail = "" if rest == 0 else f" and {self.to_words(rest)}"
        return f"{self._ones[hundreds]} {self._hundred}{tail}"
