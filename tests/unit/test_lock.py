"""The image's lock files match pyproject.toml (`make lock` rewrites them), pin every
dependency with a hash, leave the embedded servers out, and the Dockerfile installs from
them in a layer before the code."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from deploy import lock

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "docker-compose.yml").exists())
LOCKS = {"requirements.lock": None, "requirements-otel.lock": "otel"}


def pins(text: str) -> dict[str, str]:
    return {m[1]: m[2] for m in re.finditer(r"^([a-z0-9][a-z0-9._-]*)==(\S+) \\$", text, re.M)}


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.parametrize(("file", "extra"), LOCKS.items())
def test_the_lock_is_current_with_pyproject(file: str, extra: str | None) -> None:
    text = (ROOT / file).read_text()
    assert lock.header_line(extra) in text.splitlines(), (
        f"{file} is older than pyproject.toml's dependencies: run `make lock`"
    )
    pinned = pins(text)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for spec in lock.wanted(pyproject, extra):
        wanted = Requirement(spec)
        name = normal(wanted.name)
        assert name in pinned, f"{name} is not in {file}"
        assert wanted.specifier.contains(pinned[name], prereleases=True), (
            f"{file} pins {name}=={pinned[name]}, pyproject asks {wanted.specifier}"
        )
    hashes = re.findall(r"^    --hash=sha256:[0-9a-f]{64}$", text, re.M)
    assert len(hashes) == len(pinned) > 20
    embedded = pyproject["project"]["optional-dependencies"]["embedded"]
    assert {normal(Requirement(s).name) for s in embedded} & set(pinned) == set()


def test_a_dependency_change_makes_the_lock_stale() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    before = lock.digest(lock.wanted(pyproject, None))
    pyproject["project"]["dependencies"].append("left-pad>=1")
    assert lock.digest(lock.wanted(pyproject, None)) != before


def test_the_image_installs_the_lock_before_the_code_and_checks_its_health() -> None:
    lines = [
        line.strip()
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    locked = next(i for i, line in enumerate(lines) if "--require-hashes" in line)
    code = lines.index("COPY . .")
    assert locked < code, "the dependency layer must come before the code"
    assert "--no-deps" in lines[code + 1] and "--no-index" in lines[code + 1]
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert "/ready" in next(line for line in lines if line.startswith('CMD ["python", "-c"'))
