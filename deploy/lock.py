"""`make lock`: the image's dependencies, pinned with hashes, from pyproject.toml.

pip resolves the project (and an extra, for the otel lock) as it would install it here, on
CPython 3.11 / Linux x86_64 like the image's python:3.11-slim, without installing anything
(`pip install --dry-run --report`); the report names each distribution, its version and its
SHA-256. The build-system requirement (setuptools) is locked too, so the image builds the
project with no unpinned download. The header records a digest of what pyproject asks for,
so a test tells when the lock is older than a dependency change (`tests/unit/test_lock.py`).

    python deploy/lock.py requirements.lock
    python deploy/lock.py requirements-otel.lock --extra otel
"""

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wanted(pyproject: dict[str, object], extra: str | None) -> list[str]:
    """What the lock must satisfy: the runtime dependencies, the extra's, the build's."""
    project = pyproject["project"]
    build = pyproject["build-system"]
    assert isinstance(project, dict) and isinstance(build, dict)
    found = list(project["dependencies"]) + list(build["requires"])
    if extra:
        found += list(project["optional-dependencies"][extra])
    return sorted(found)


def digest(requirements: list[str]) -> str:
    return hashlib.sha256("\n".join(requirements).encode()).hexdigest()


def header_line(extra: str | None) -> str:
    text = (ROOT / "pyproject.toml").read_text()
    return f"# pyproject sha256: {digest(wanted(tomllib.loads(text), extra))}"


def resolve(extra: str | None) -> list[tuple[str, str, str]]:
    """(name, version, sha256) of every distribution pip would install, the project aside."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    target = f"{ROOT}[{extra}]" if extra else str(ROOT)
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
             "--quiet", "--report", str(report), target, *pyproject["build-system"]["requires"]],
            check=True,
        )  # fmt: skip
        installs = json.loads(report.read_text())["install"]
    pinned = []
    for item in installs:
        meta, info = item["metadata"], item["download_info"]
        if "dir_info" in info:  # the project itself
            continue
        sha = info["archive_info"]["hashes"]["sha256"]
        pinned.append((meta["name"].lower().replace("_", "-"), meta["version"], sha))
    return sorted(pinned)


def render(extra: str | None, pinned: list[tuple[str, str, str]]) -> str:
    lines = [
        "# The image's dependencies, pinned with hashes: `make lock` writes this file",
        "# (deploy/lock.py) from pyproject.toml for CPython 3.11 on Linux x86_64; do not edit.",
        header_line(extra),
    ]
    for name, version, sha in pinned:
        lines += [f"{name}=={version} \\", f"    --hash=sha256:{sha}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("output", type=Path)
    parser.add_argument("--extra", help="also an optional dependency group (e.g. otel)")
    args = parser.parse_args()
    args.output.write_text(render(args.extra, resolve(args.extra)))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
