"""The pages' catalogues: the same keys in every language, and every key the templates and
routes ask for is in them (a missing one would fail only on the page that shows it)."""

import re
from pathlib import Path

from pages.catalogue import CATALOGUES, SINGULAR, Catalogue

PAGES = Path(__file__).resolve().parents[2] / "pages"
_ASKED = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]*[a-z_])["']""")


def test_every_language_has_the_same_keys() -> None:
    ko, en = (set(CATALOGUES[language]) for language in ("ko", "en"))
    assert ko - en == set() and en - ko == set()


def test_every_key_asked_for_is_in_the_catalogues() -> None:
    sources = [*PAGES.glob("templates/*.html"), *PAGES.glob("*.py")]
    asked = {key for path in sources for key in _ASKED.findall(path.read_text())}
    assert len(asked) > 50, "the pattern finds what the templates ask for"
    assert asked - set(CATALOGUES["ko"]) == set()


def test_one_is_singular_in_english_and_korean_has_one_form() -> None:
    en, ko = Catalogue("en"), Catalogue("ko")
    assert en("case.visits", n=1) == "1 visit" and en("case.visits", n=2) == "2 visits"
    assert en("case.visits", n=0) == "0 visits"
    assert en("case.delayed", when="Mon", n=1) == "moved from Mon (once)"
    assert ko("case.visits", n=1) == CATALOGUES["ko"]["case.visits"].format(n=1)
    assert set(SINGULAR["en"]) <= set(CATALOGUES["en"]), "a singular of no text"
    for key, one in SINGULAR["en"].items():
        assert "(s)" not in CATALOGUES["en"][key] and "(s)" not in one
