"""The README is for users and operators: its user part (everything before "How it is
built") stays under 500 lines, and its first screen says what to run, what to open and
that you add yourself as staff first."""

from pathlib import Path

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_user_part_is_under_500_lines() -> None:
    user_part, built, _ = README.partition("\n## How it is built\n")
    assert built, "the README has a 'How it is built' section"
    assert len(user_part.splitlines()) < 500


def test_the_first_screen_gets_a_newcomer_started() -> None:
    first = "\n".join(README.splitlines()[:40])
    for needed in ("make run", "make test", "http://localhost:8000/", "staff add", "staff link"):
        assert needed in first, needed
