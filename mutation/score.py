"""The mutation score of the rulebook: runs mutmut over domain/ with the unit tests, prints
the score per file, lists what survived, and exits 1 below the bar.

Mutants listed in mutation/equivalents.toml change nothing a caller can observe; they are
left out of the score. Each entry records the change it was reviewed for, so an entry whose
mutant now changes something else (the numbering moves when domain/ is edited) is reported
as stale instead of silently excusing a new survivor.

    python mutation/score.py [--min 90] [--max-children 2] [--keep]
"""

import argparse
import difflib
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
EQUIVALENTS = Path(__file__).resolve().parent / "equivalents.toml"
MUTMUT = Path(sys.executable).with_name("mutmut")

DETECTED = {"killed", "timeout", "caught by type check", "segfault"}
UNDETECTED = {"survived", "no tests", "suspicious"}
IGNORED = {"skipped"}  # mutmut's own pragma: not a mutant at all


def run_mutmut(max_children: int) -> None:
    log = ROOT / "mutation" / "last-run.log"
    started = time.monotonic()
    with log.open("w") as out:
        done = subprocess.run(
            [str(MUTMUT), "run", "--max-children", str(max_children)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        sys.exit(f"mutmut run failed (exit {done.returncode}); the end of {log}:\n{tail}")
    print(f"mutmut run: {seconds:.0f} s with {max_children} children (log: {log})")


def results() -> dict[str, str]:
    """Every mutant's status, by name (`mutmut results --all true`)."""
    done = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    out: dict[str, str] = {}
    for line in done.stdout.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name.startswith("domain."):
            out[name] = status
    if not out:
        sys.exit("mutmut reported no mutants: did the run happen?")
    return out


def source_file(name: str) -> str:
    """domain.decider.x_evolve__mutmut_12 -> domain/decider.py"""
    module = name.rsplit(".", 1)[0]
    return module.replace(".", "/") + ".py"


def change(name: str) -> str:
    """What the mutant changed, one line: the removed and added lines of its function, read
    from the copy mutmut keeps in mutants/ (as `mutmut show` does, without a process each)."""
    path = MUTANTS / source_file(name)
    spans = json.loads(path.with_name(path.name + ".spans").read_text())["spans"]
    function = name.rsplit(".", 1)[1]
    lines = path.read_text().splitlines()

    def body(key: str) -> list[str]:
        start, end = spans[key]
        own_def = f"def {key}("  # it names the mutant, so it differs in every one
        return [s for s in lines[start:end] if s.strip() and not s.lstrip().startswith(own_def)]

    orig = body(function.rsplit("__mutmut_", 1)[0] + "__mutmut_orig")
    diff = difflib.unified_diff(orig, body(function), lineterm="", n=0)
    changed = [d for d in diff if d[:1] in "+-" and not d.startswith(("+++", "---"))]
    return " | ".join(f"{d[0]} {' '.join(d[1:].split())}" for d in changed)


def load_equivalents() -> dict[str, dict[str, str]]:
    data = tomllib.loads(EQUIVALENTS.read_text())
    for name, entry in data.items():
        if set(entry) != {"change", "why"} or not entry["why"].strip():
            sys.exit(f"{EQUIVALENTS.name}: {name} needs exactly `change` and a one-line `why`")
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=float, default=90.0, help="lowest passing score, in %%")
    parser.add_argument(
        "--max-children", type=int, default=int(os.environ.get("MUTATION_CHILDREN", "2"))
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="reuse mutants/ from the last run (mutmut then re-tests only changed source, "
        "so verdicts can be stale after a test change)",
    )
    args = parser.parse_args()

    if not args.keep:
        shutil.rmtree(MUTANTS, ignore_errors=True)  # a fresh verdict for every mutant
    run_mutmut(args.max_children)
    status = results()
    equivalents = load_equivalents()

    stale = []
    for name, entry in equivalents.items():
        if name not in status:
            stale.append(f"{name}: no such mutant now")
        elif status[name] in DETECTED:
            stale.append(f"{name}: now {status[name]}, so not equivalent; remove it")
        elif (now := change(name)) != entry["change"]:
            stale.append(f"{name}: now changes `{now}`, was reviewed for `{entry['change']}`")

    unknown = {s for s in status.values()} - DETECTED - UNDETECTED - IGNORED
    if unknown:
        sys.exit(f"mutmut left mutants unchecked ({', '.join(sorted(unknown))}): run again")

    per_file: dict[str, Counter[str]] = {}
    survivors: list[str] = []
    for name, verdict in status.items():
        counts = per_file.setdefault(source_file(name), Counter())
        counts["mutants"] += 1
        if verdict in IGNORED:
            counts["ignored"] += 1
        elif name in equivalents and verdict in UNDETECTED:
            counts["equivalent"] += 1
        elif verdict in DETECTED:
            counts["killed"] += 1
        else:
            counts["survived"] += 1
            survivors.append(name)

    def row(label: str, c: Counter[str]) -> str:
        scored = c["killed"] + c["survived"]
        score = 100.0 * c["killed"] / scored if scored else 100.0
        cells = (c["mutants"], c["killed"], c["survived"], c["equivalent"])
        return f"{label:<26}{cells[0]:>8}{cells[1]:>8}{cells[2]:>10}{cells[3]:>12}{score:>8.1f} %"

    print(
        f"\n{'file':<26}{'mutants':>8}{'killed':>8}{'survived':>10}{'equivalent':>12}{'score':>10}"
    )
    total: Counter[str] = Counter()
    for path in sorted(per_file):
        print(row(path, per_file[path]))
        total += per_file[path]
    print(row("domain/ (all)", total))

    if survivors:
        print(f"\nsurviving mutants ({len(survivors)}); read one with `mutmut show NAME`:")
        for name in sorted(survivors):
            print(f"  {name} ({status[name]}): {change(name)}")
    if stale:
        print(f"\nstale entries in {EQUIVALENTS.relative_to(ROOT)}:")
        for line in stale:
            print(f"  {line}")

    scored = total["killed"] + total["survived"]
    score = 100.0 * total["killed"] / scored if scored else 100.0
    if stale:
        sys.exit(f"\nFAIL: review the stale equivalents above (score {score:.1f} %)")
    if score < args.min:
        sys.exit(f"\nFAIL: mutation score {score:.1f} % is below {args.min:g} %")
    print(f"\nOK: mutation score {score:.1f} % (at least {args.min:g} %)")


if __name__ == "__main__":
    main()
