"""deploy/: the compose file against the compose-spec schema, the systemd units, the config.

No Docker engine runs on this machine, so the images are not built or started here; what can
be checked is (README, "Running on WeChat"): the compose file's shape, the units, the config.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.core.config import WechatyTransportSection, parse_config

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
SCHEMA = Path(sys.prefix) / "share" / "jinlin" / "compose_spec.json"  # put there by tests/run.sh


def compose_errors(document: object) -> list[str]:
    """What the compose-spec schema says is wrong with a compose document."""
    assert SCHEMA.is_file(), f"{SCHEMA} is missing: run bash tests/run.sh (it fetches it)"
    schema = json.loads(SCHEMA.read_text("utf-8"))
    validator = jsonschema.Draft201909Validator(schema)
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(document)]


def test_the_compose_file_follows_the_compose_spec() -> None:
    document = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text("utf-8"))

    assert compose_errors(document) == []
    assert set(document["services"]) == {"gateway", "db", "bot"}
    # the gateway's plain gRPC port and the console stay off the outside network
    assert "ports" not in document["services"]["gateway"]
    assert document["services"]["bot"]["ports"] == ["127.0.0.1:8080:8080"]


def test_the_schema_check_catches_a_broken_file() -> None:
    document = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text("utf-8"))
    document["services"]["bot"]["ports"] = {"web": 8080}
    document["services"]["db"]["healthcheck"]["retries"] = "many"

    assert len(compose_errors(document)) == 2


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    assert tool is not None, "systemd-analyze is missing: run bash tests/run.sh (it installs it)"
    # verify checks that each ExecStart program exists: point them at this checkout's
    node = shutil.which("node") or "/usr/bin/node"
    jinlin = Path(sys.prefix) / "bin" / "jinlin"
    replacements = {
        "/opt/jinlin/.venv/bin/jinlin": str(jinlin),
        "/usr/bin/node /opt/wechaty-gateway/node_modules/wechaty/dist/esm/bin/cli.js": (
            f"{node} {REPO / 'tests' / 'puppet' / 'server.mjs'}"
        ),
    }
    units = []
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        text = unit.read_text("utf-8")
        for old, new in replacements.items():
            text = text.replace(old, new)
        units.append(tmp_path / unit.name)
        units[-1].write_text(text, "utf-8")

    done = subprocess.run(
        [tool, "verify", *map(str, units)], capture_output=True, text=True, timeout=60, check=False
    )

    assert len(units) == 2
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr  # no warning either


def test_the_deploy_config_is_valid_once_filled_in() -> None:
    text = (DEPLOY / "config.wechat.example.yaml").read_text("utf-8")
    text = text.replace("${JINLIN_DB_URL}", "postgresql+asyncpg://jinlin:pw@db/jinlin")
    text = text.replace("${JINLIN_LOGIN_WEBHOOK}", "")

    config = parse_config(yaml.safe_load(text), "deploy/config.wechat.example.yaml")

    assert isinstance(config.transport, WechatyTransportSection)
    assert config.transport.endpoint == "gateway:8788"


@pytest.mark.parametrize("name", ["entrypoint.sh"])
def test_the_entrypoint_is_valid_sh(name: str) -> None:
    done = subprocess.run(
        ["sh", "-n", str(DEPLOY / name)], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
