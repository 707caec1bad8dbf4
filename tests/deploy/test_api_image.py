"""The Dockerfile and the compose `api` service (no Docker engine here: what can be checked statically,
plus the image's start command run for real on this machine)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import yaml

from tests.conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()
API = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["api"]


def instructions(name: str) -> list[str]:
    """The arguments of each ``name`` instruction, continuation lines joined."""
    joined = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(name + " ")]


def test_the_image_is_slim_multi_stage_and_runs_as_a_non_root_user() -> None:
    bases = instructions("FROM")
    assert len(bases) == 2 and all("slim" in base for base in bases)
    user = instructions("USER")[-1]
    assert user.split(":")[0] not in ("root", "0")
    assert "useradd --system --uid 10001" in DOCKERFILE
    assert "--no-cache-dir" in DOCKERFILE and "rm -rf /wheels" in DOCKERFILE
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".env", "tests"} <= set(ignored)


def test_the_image_serves_behind_a_proxy_and_checks_readiness() -> None:
    assert instructions("ENTRYPOINT") == ['["samplectl"]']
    command = yaml.safe_load(instructions("CMD")[-1])
    assert command[:3] == ["serve", "--host", "0.0.0.0"] and "--behind-proxy" in command
    assert "/readyz" in instructions("HEALTHCHECK")[0]


def test_compose_api_service_uses_the_image_after_the_stores_on_loopback() -> None:
    assert API["build"] == "."
    assert API["depends_on"] == ["mongo", "postgres"]  # the list form: compose v1 reads it too
    assert API["ports"] == ["127.0.0.1:8000:8000"]
    assert "--behind-proxy" in API["command"]
    assert "/readyz" in " ".join(API["healthcheck"]["test"])
    # The passwords come from compose secrets, read inside the container: never from the file itself.
    assert set(API["secrets"]) == {"samplectl_mongo_password", "samplectl_pg_password"}
    script = API["entrypoint"][2]
    assert "$$(cat /run/secrets/samplectl_mongo_password)@mongo:27017/samplectl" in script
    assert "$$(cat /run/secrets/samplectl_pg_password)@postgres:5432/samplectl" in script
    assert API["entrypoint"][:2] == ["sh", "-c"] and 'exec samplectl "$$@"' in script
    assert "PASSWORD" not in " ".join(API.get("environment", {}))


def test_the_api_entrypoint_builds_the_uris_from_the_secret_files(tmp_path: Path) -> None:
    # The entrypoint script run for real by sh, with the secrets where compose mounts them (here: a copy).
    secrets = tmp_path / "run-secrets"
    secrets.mkdir()
    (secrets / "samplectl_mongo_password").write_text("m0ngo-pw\n")
    (secrets / "samplectl_pg_password").write_text("pg-pw\n")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "samplectl").write_text('#!/bin/sh\necho "$SAMPLECTL_MONGODB_URI|$SAMPLECTL_DATABASE_URL|$*"\n')
    (fake / "samplectl").chmod(0o755)
    script = API["entrypoint"][2].replace("$$", "$").replace("/run/secrets", str(secrets))
    done = subprocess.run(["sh", "-c", script, "samplectl", "serve", "--port", "8000"], capture_output=True,
                          text=True, timeout=30, check=False, env={"PATH": f"{fake}:/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("mongodb://samplectl:m0ngo-pw@mongo:27017/samplectl?authSource=samplectl|"
                                   "postgresql+psycopg://samplectl:pg-pw@postgres:5432/samplectl|serve --port 8000")


def test_the_health_check_command_works_against_a_real_server(tmp_path: Path) -> None:
    from tests.server.conftest import Server, server_env

    running = Server(tmp_path, server_env(tmp_path))
    running.init()
    running.start()
    try:
        probe = yaml.safe_load(instructions("HEALTHCHECK")[0].split("CMD", 1)[1].strip())
        assert probe[0] == "python"
        code = probe[2].replace("127.0.0.1:8000", f"127.0.0.1:{running.port}")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30, check=False)
        assert done.returncode == 0, done.stderr
        assert httpx.get(running.url + "/readyz").json() == {"status": "ok"}
    finally:
        running.stop()
