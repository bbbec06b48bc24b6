"""`python -m bench.fold`, the A/B tool for changes to the rebuild's fold, keeps working as the
domain changes: it folds the benchmark's cases and reports every part (no timing judged)."""

import pytest

from bench.fold import main, measure


def test_the_fold_tool_reports_each_part_of_the_fold(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    figures = measure(events=140, repeats=1)
    assert set(figures) == {"parse", "evolve", "row", "fold_cases"}
    assert all(us > 0 for us in figures.values())
    monkeypatch.setattr("sys.argv", ["bench.fold", "70", "1"])
    main()
    assert "70 events, best of 1, us per event: parse" in capsys.readouterr().out
