"""Every string the pages show, one catalogue per language (ko.py, en.py, the same keys).
Names of steps, motives, statuses, tiers and roles come from domain.wording, as the notices
say them; this adds what only the pages say."""

from collections.abc import Mapping

from domain.wording import NAMES, Language
from pages.catalogue import en, ko

CATALOGUES: dict[Language, Mapping[str, str]] = {"ko": ko.TEXT, "en": en.TEXT}
# A text's form for exactly one (`n=1`), where the language has one: "1 visit", not "1 visits".
SINGULAR: dict[Language, Mapping[str, str]] = {"ko": {}, "en": en.ONE}


class Catalogue:
    def __init__(self, language: Language) -> None:
        self.language = language
        self._text = CATALOGUES[language]
        self._one = SINGULAR[language]

    def __call__(self, key: str, **values: object) -> str:
        text = self._one.get(key, self._text[key]) if values.get("n") == 1 else self._text[key]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self._text

    def name(self, value: str | None) -> str:
        """A step, motive, status, tier, role, channel, remedy or fault in this language."""
        if value is None:
            return ""
        return NAMES[self.language].get(value) or self._text.get(f"name.{value}", value)
