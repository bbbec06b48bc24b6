"""The CLI's start, as people feel it: whole commands timed as processes, side by side in
turns (`python -c pass`, `complaints --help`, `complaints show CASE`, and the Temporal CLI's
`temporal workflow describe` of the same case), so a busy moment hits all four alike.

Each figure is the median wall time of its runs, with the CPU seconds the process itself
used (user + system, from the kernel's accounting of the finished child), and its ratio to
`python -c pass` in the same run. `make bench` runs it as its `cli` part against its own
stack, where it adds a staff member and opens a case through the CLI. Against a running
service (`make run`): `.venv/bin/python -m bench.cli_start CASE [RUNS]`, with TEMPORAL_ADDRESS,
DATABASE_URL and COMPLAINTS_STAFF set as for the CLI; it changes nothing there.
"""

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra import temporal_server

ROOT = Path(__file__).resolve().parent.parent
COMPLAINTS = str(Path(sys.executable).parent / "complaints")
STAFF = "Bench Owner"
OPEN_REST = ["--channel", "phone", "--motive", "compensation", "--what", "The cake was crushed"]

# The targets for the CLI's start, in seconds of wall time (p50) on this machine.
TARGETS = {"help": 0.25, "show": 0.6}


def _run(args: list[str], env: Mapping[str, str]) -> tuple[float, float]:
    """Wall seconds and the child's own CPU seconds (user + system) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, timeout=120)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def open_case(env: Mapping[str, str]) -> str:
    """A staff member (the CLI acts as one) and one case opened through the CLI: its id."""
    subprocess.run(
        [COMPLAINTS, "staff", "add", STAFF, "--role", "owner"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    opened = subprocess.run(
        [COMPLAINTS, "open", "--name", "Park Jiho", "--phone", "010-1234-5678", *OPEN_REST],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return opened.stdout.split()[2].rstrip(":")  # "opened case <id>: next, apologize ..."


def cli_start(
    service_env: Mapping[str, str], runs: int = 15, case: str | None = None
) -> dict[str, Any]:
    """Each command `runs` times in turns, after one warm-up round; without `case`, a staff
    member is added and a case opened first."""
    env = dict(os.environ) | dict(service_env)
    if case is None:
        env["COMPLAINTS_STAFF"] = STAFF
        case = open_case(env)
    address = env.get("TEMPORAL_ADDRESS", "localhost:7233")
    commands = {
        "python": [sys.executable, "-c", "pass"],
        "help": [COMPLAINTS, "--help"],
        "show": [COMPLAINTS, "show", case],
        "describe": [
            temporal_server.binary("temporal"),
            "workflow",
            "describe",
            "--address",
            address,
            "--workflow-id",
            f"complaint-{case}",
        ],
    }
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for round_ in range(runs + 1):
        for name, args in commands.items():
            wall, cpu = _run(args, env)
            if round_:  # the first round warms the page cache and the server
                samples[name].append((wall, cpu))
    out: dict[str, Any] = {"runs": runs, "case_id": case}
    for name, pairs in samples.items():
        walls = sorted(w for w, _ in pairs)
        out[name] = {
            "p50_s": statistics.median(walls),
            "min_s": walls[0],
            "max_s": walls[-1],
            "cpu_p50_s": statistics.median(c for _, c in pairs),
        }
    floor = out["python"]["p50_s"]
    for name in commands:
        out[name]["ratio_to_python"] = out[name]["p50_s"] / floor
    return out


def report(cli: Mapping[str, Any]) -> list[str]:
    lines = [
        f"CLI start, {cli['runs']} runs each in turns (p50 wall s, range, CPU s, x python -c pass):"
    ]
    names = {
        "python": "python -c pass",
        "help": "complaints --help",
        "show": "complaints show CASE",
        "describe": "temporal workflow describe (same case)",
    }
    for name, label in names.items():
        f = cli[name]
        target = f"  target <= {TARGETS[name]:.2f} s" if name in TARGETS else ""
        verdict = "" if not target else (" met" if f["p50_s"] <= TARGETS[name] else " MISSED")
        lines.append(
            f"  {label:<40} {f['p50_s']:6.3f} ({f['min_s']:.3f}-{f['max_s']:.3f})"
            f"  cpu {f['cpu_p50_s']:.3f}  x{f['ratio_to_python']:.1f}{target}{verdict}"
        )
    return lines


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m bench.cli_start CASE [RUNS]")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    print("\n".join(report(cli_start(os.environ, runs, case=sys.argv[1]))))
