"""docker-compose.yml and deploy/: no Docker engine runs here, so check what can be checked.

The file parses and has what a lab needs (MongoDB 7 with auth, PostgreSQL 16, health checks, named volumes,
no committed secret); docs/deployment.md names the users, ports and databases that the compose file and
the init scripts create; and the PostgreSQL init script runs for real against a local PostgreSQL.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from tests.conftest import ROOT, free_port

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
MONGO, POSTGRES = SERVICES["mongo"], SERVICES["postgres"]
DEPLOYMENT = (ROOT / "docs" / "deployment.md").read_text()
MONGO_INIT = ROOT / "deploy" / "mongo-init" / "01-samplectl-user.js"
PG_INIT = ROOT / "deploy" / "postgres-init" / "01-samplectl-role.sh"
SECRET_FILE = re.compile(r"^/run/secrets/(\w+)$")  # where compose mounts a secret in the container


def real_servers_section() -> str:
    start = DEPLOYMENT.index("\n## Run against real servers\n")
    end = DEPLOYMENT.index("\n## ", start + 5)
    return DEPLOYMENT[start:end]


def documented_export(name: str) -> str:
    match = re.search(rf'^\s*export {name}="?([^"\n]+)"?$', real_servers_section(), re.M)
    assert match, f"docs/deployment.md 'Run against real servers' does not export {name}"
    return match.group(1)


def published(service: dict[str, Any], container_port: int) -> tuple[str, int]:
    for spec in service["ports"]:
        host_ip, host_port, inner = str(spec).split(":")
        if int(inner) == container_port:
            return host_ip, int(host_port)
    raise AssertionError(f"port {container_port} is not published")


def test_images_are_mongodb_7_and_postgresql_16() -> None:
    assert MONGO["image"].split(":")[1].split(".")[0] == "7"
    assert POSTGRES["image"].split(":")[1].split(".")[0] == "16"


def test_every_service_has_a_health_check_and_named_volumes() -> None:
    for name, service in SERVICES.items():
        assert service["healthcheck"]["test"], name
        named = [v.split(":")[0] for v in service["volumes"] if not v.startswith((".", "/"))]
        assert named, f"{name} keeps no data in a named volume"
        assert set(named) <= set(COMPOSE["volumes"]), name


def test_servers_listen_on_loopback_only() -> None:
    assert published(MONGO, 27017)[0] == "127.0.0.1"
    assert published(POSTGRES, 5432)[0] == "127.0.0.1"


def password_variables(service: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in service["environment"].items() if "PASSWORD" in key}


def test_every_password_is_a_compose_secret_read_through_a_file_variable() -> None:
    # No password in the compose file, the environment, `docker inspect` or a shell's history: each is a
    # secret file under ./secrets/ (git-ignored), mounted at /run/secrets/ and named by a *_FILE variable.
    defined = COMPOSE["secrets"]
    for name, service in SERVICES.items():
        variables = password_variables(service)
        assert variables or name == "api", name  # api builds its URIs from the secrets (test_api_image)
        for key, value in variables.items():
            assert key.endswith("_FILE"), f"{name}.{key} must be a *_FILE variable, not a password"
            secret = SECRET_FILE.match(value)
            assert secret, f"{name}.{key} must point at /run/secrets/NAME, not {value!r}"
            assert secret.group(1) in service["secrets"], f"{name} does not mount the secret {secret.group(1)}"
            assert defined[secret.group(1)]["file"].startswith("./secrets/")
    assert "/secrets/" in (ROOT / ".gitignore").read_text().split()
    example = (ROOT / ".env.example").read_text()
    assert "PASSWORD" not in example and "COMPOSE_PROJECT_NAME=samplectl" in example


def test_the_images_read_their_own_passwords_from_files() -> None:
    # The official images' *_FILE variables; the init scripts read theirs the same way.
    assert MONGO["environment"]["MONGO_INITDB_ROOT_PASSWORD_FILE"] == "/run/secrets/mongo_root_password"
    assert POSTGRES["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert "process.env.SAMPLECTL_MONGO_PASSWORD_FILE" in MONGO_INIT.read_text()
    assert "SAMPLECTL_PG_PASSWORD_FILE" in PG_INIT.read_text()


# Compose v1 (Debian's docker-compose 1.29) validates against its file-format schemas: these are the keys
# its 3.7 schema allows where this file uses any (a key outside them makes v1 refuse the whole file).
V1_TOP_LEVEL = {"version", "services", "volumes", "secrets", "networks", "configs"}
V1_SERVICE_KEYS = {"image", "restart", "environment", "secrets", "ports", "volumes", "healthcheck", "command",
                   "depends_on", "networks", "build", "container_name", "entrypoint", "env_file", "user",
                   "working_dir", "labels", "logging", "expose", "configs", "init", "stop_grace_period"}
V1_HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "disable"}


def test_the_file_is_readable_by_compose_v1_too() -> None:
    major, minor = (int(part) for part in str(COMPOSE["version"]).split("."))
    assert (major, minor) >= (3, 7), "secrets and start_period need file format 3.7 in compose v1"
    assert major == 3
    assert set(COMPOSE) <= V1_TOP_LEVEL, f"compose v1 refuses top-level keys {set(COMPOSE) - V1_TOP_LEVEL}"
    for name, service in SERVICES.items():
        assert set(service) <= V1_SERVICE_KEYS, (name, set(service) - V1_SERVICE_KEYS)
        assert set(service["healthcheck"]) <= V1_HEALTHCHECK_KEYS, name


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose (v1) is not installed")
def test_compose_v1_itself_accepts_the_file(tmp_path: Path) -> None:
    # `config` parses and validates without a Docker engine; the secret files must exist for it.
    project = tmp_path / "project"
    shutil.copytree(ROOT / "deploy", project / "deploy")
    shutil.copy(ROOT / "docker-compose.yml", project / "docker-compose.yml")
    (project / "secrets").mkdir()
    for secret in COMPOSE["secrets"]:
        (project / "secrets" / secret).write_text("not-a-real-password\n")
    done = subprocess.run(["docker-compose", "--project-directory", str(project), "-f",
                           str(project / "docker-compose.yml"), "config", "--quiet"],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "COMPOSE_PROJECT_NAME": "samplectl"})
    assert done.returncode == 0, done.stderr


def test_mongodb_requires_authentication_and_runs_the_init_script() -> None:
    env = MONGO["environment"]
    assert env["MONGO_INITDB_ROOT_USERNAME"] and env["MONGO_INITDB_ROOT_PASSWORD_FILE"]
    assert "./deploy/mongo-init:/docker-entrypoint-initdb.d:ro" in MONGO["volumes"]
    assert "./deploy/postgres-init:/docker-entrypoint-initdb.d:ro" in POSTGRES["volumes"]
    assert os.access(PG_INIT, os.X_OK), "the postgres image sources non-executable .sh files; keep it executable"


def test_mongo_init_script_grants_readwrite_on_the_samplectl_database_only() -> None:
    script = MONGO_INIT.read_text()
    assert re.search(r"roles:\s*\[\{\s*role:\s*\"readWrite\",\s*db:\s*appDb\s*\}\]", script)
    assert "process.env.SAMPLECTL_MONGO_USER" in script and "process.env.SAMPLECTL_MONGO_PASSWORD_FILE" in script
    assert "process.env.MONGO_INITDB_DATABASE" in script
    for powerful in ("root", "dbOwner", "userAdmin", "readWriteAnyDatabase", "clusterAdmin", "dbAdmin"):
        assert f'"{powerful}"' not in script


def test_deployment_doc_mongodb_uri_matches_the_compose_user_port_and_database() -> None:
    env = MONGO["environment"]
    uri = urlsplit(documented_export("SAMPLECTL_MONGODB_URI"))
    assert uri.scheme == "mongodb"
    assert uri.username == env["SAMPLECTL_MONGO_USER"]
    assert uri.password == "${SAMPLECTL_MONGO_PASSWORD}"
    # ... read from the secret file the compose file hands to the init script.
    secret = SECRET_FILE.match(env["SAMPLECTL_MONGO_PASSWORD_FILE"]).group(1)  # type: ignore[union-attr]
    assert f"SAMPLECTL_MONGO_PASSWORD=$(cat secrets/{secret})" in real_servers_section()
    assert (uri.hostname, uri.port) == published(MONGO, 27017)
    # The init script defines the user in MONGO_INITDB_DATABASE: that is where it authenticates.
    assert parse_qs(uri.query)["authSource"] == [env["MONGO_INITDB_DATABASE"]]
    assert documented_export("SAMPLECTL_MONGODB_DB") == env["MONGO_INITDB_DATABASE"] == "samplectl"


def test_deployment_doc_database_url_matches_the_compose_role_port_and_database() -> None:
    env = POSTGRES["environment"]
    url = urlsplit(documented_export("SAMPLECTL_DATABASE_URL"))
    assert url.scheme == "postgresql+psycopg"
    assert url.username == env["SAMPLECTL_PG_USER"]
    assert url.password == "${SAMPLECTL_PG_PASSWORD}"
    secret = SECRET_FILE.match(env["SAMPLECTL_PG_PASSWORD_FILE"]).group(1)  # type: ignore[union-attr]
    assert f"SAMPLECTL_PG_PASSWORD=$(cat secrets/{secret})" in real_servers_section()
    assert (url.hostname, url.port) == published(POSTGRES, 5432)
    assert url.path == "/" + env["SAMPLECTL_PG_DB"]


def test_deployment_doc_tells_how_to_make_the_secrets_and_start() -> None:
    section = real_servers_section()
    assert "docker compose up -d" in section and "docker-compose" in section  # v2, and v1's spelling
    assert "cp .env.example .env" in section and "mkdir -m 700 secrets" in section
    for secret in COMPOSE["secrets"]:
        assert secret in section, f"docs/deployment.md does not create secrets/{secret}"


# -- the PostgreSQL init script, run for real ------------------------------------------------------
def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[dict[str, str]]:
    """A throwaway PostgreSQL cluster (as the postgres user: initdb refuses root), superuser `postgres`."""
    pg_bin = _pg_bin()
    if pg_bin is None or shutil.which("runuser") is None or os.geteuid() != 0 or not shutil.which("psql"):
        pytest.skip("needs PostgreSQL server binaries, psql and root (to run them as the postgres user)")
    # Not under pytest's temporary root: that is private to root, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="samplectl-pg-"))
    as_pg = ["runuser", "-u", "postgres", "--"]
    try:
        shutil.chown(base, "postgres", "postgres")
        (base / "pw").write_text("super-secret-for-tests\n")
        shutil.chown(base / "pw", "postgres")
        subprocess.run([*as_pg, str(pg_bin / "initdb"), "-D", str(base / "data"), "-U", "postgres",
                        f"--pwfile={base / 'pw'}", "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
                        "--no-sync"], check=True, capture_output=True, timeout=120)
        port = free_port()
        subprocess.run([*as_pg, str(pg_bin / "pg_ctl"), "-D", str(base / "data"), "-l", str(base / "log"), "-w",
                        "-t", "30", "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off",
                        "start"], check=True, capture_output=True, timeout=60)
        yield {"PGHOST": "127.0.0.1", "PGPORT": str(port), "PGPASSWORD": "super-secret-for-tests"}
    finally:
        if (base / "data" / "postmaster.pid").exists():
            subprocess.run([*as_pg, str(pg_bin / "pg_ctl"), "-D", str(base / "data"), "-m", "fast", "-w", "stop"],
                           capture_output=True, timeout=60, check=False)
        shutil.rmtree(base, ignore_errors=True)

@pytest.mark.postgres
def test_postgres_init_script_creates_a_least_privilege_owner(postgres_server: dict[str, str],
                                                              tmp_path: Path) -> None:
    env = POSTGRES["environment"]
    app_password = "app-pw-4711"
    secret = tmp_path / "samplectl_pg_password"  # as compose mounts the secret, with its line ending
    secret.write_text(app_password + "\n")
    run_env = {**os.environ, **postgres_server, "POSTGRES_USER": env["POSTGRES_USER"],
               "POSTGRES_DB": env["POSTGRES_DB"], "SAMPLECTL_PG_USER": env["SAMPLECTL_PG_USER"],
               "SAMPLECTL_PG_PASSWORD_FILE": str(secret), "SAMPLECTL_PG_DB": env["SAMPLECTL_PG_DB"]}
    done = subprocess.run(["bash", str(PG_INIT)], env=run_env, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert app_password not in done.stdout + done.stderr

    # Connect exactly as docs/deployment.md's SAMPLECTL_DATABASE_URL says, with the server's real port.
    from sqlalchemy import create_engine, text

    url = documented_export("SAMPLECTL_DATABASE_URL").replace("${SAMPLECTL_PG_PASSWORD}", app_password)
    url = url.replace(":5432/", f":{postgres_server['PGPORT']}/")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE users_probe (name text primary key)"))  # owner may create tables
            role = conn.execute(text(
                "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user")).one()
            owner = conn.execute(text(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")).scalar()
        assert tuple(role) == (False, False, False)
        assert owner == env["SAMPLECTL_PG_USER"]
    finally:
        engine.dispose()
