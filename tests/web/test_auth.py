"""Password hashes, signed values, the web config section and the `jinlin web` helpers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.core.config import ConfigError, parse_config
from bot.web.auth import Signer, hash_password, token_sha256, verify_password
from tests.web.conftest import web_config_data


def test_scrypt_hash_round_trip() -> None:
    stored = hash_password("pass phrase", n=2**4)
    assert stored.startswith("scrypt$16$8$1$")
    assert verify_password("pass phrase", stored)
    assert not verify_password("pass phrasE", stored)
    assert not verify_password("pass phrase", "scrypt$16$8$1$bad$bad")
    assert not verify_password("pass phrase", "md5$x")


def test_signed_values_cannot_be_forged_or_reused_for_another_purpose() -> None:
    signer = Signer("secret")
    value = signer.sign("session", {"u": "li"})
    assert signer.unsign("session", value) == {"u": "li"}
    assert signer.unsign("login", value) is None
    assert Signer("other").unsign("session", value) is None
    body, mac = value.split(".")
    assert signer.unsign("session", body + "x." + mac) is None
    assert signer.unsign("session", "garbage") is None


def test_config_names_the_key_path_of_a_bad_password_hash() -> None:
    data = web_config_data()
    data["web"]["users"][1]["password_hash"] = "plain-text-password"
    with pytest.raises(ConfigError) as err:
        parse_config(data, "cfg.yaml")
    assert "web.users[1].password_hash" in str(err.value)
    assert "jinlin web hash-password" in str(err.value)
    data = web_config_data()
    data["web"]["api_tokens"][0]["token_sha256"] = "abc"
    with pytest.raises(ConfigError) as err:
        parse_config(data, "cfg.yaml")
    assert "web.api_tokens[0].token_sha256" in str(err.value)


def test_cli_helpers() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "web", "hash-password"],
        input="long enough password\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert verify_password("long enough password", out)
    short = subprocess.run(
        [sys.executable, "-m", "bot.cli", "web", "hash-password"],
        input="short\n",
        capture_output=True,
        text=True,
    )
    assert short.returncode == 2
    token = subprocess.run(
        [sys.executable, "-m", "bot.cli", "web", "new-token"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert token_sha256(token[1]) == token[3]
