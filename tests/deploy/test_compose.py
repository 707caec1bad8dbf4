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
REQUIRED = re.compile(r"^\$\{(\w+):\?[^}]+\}$")  # ${VAR:?message}: compose refuses to start without it


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


def test_no_secret_is_committed_every_password_comes_from_env() -> None:
    for name, service in SERVICES.items():
        for key, value in service["environment"].items():
            if "PASSWORD" in key:
                assert REQUIRED.match(str(value)), f"{name}.{key} must be ${{VAR:?...}} from .env, not {value!r}"
    example = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    required = {REQUIRED.match(str(v)).group(1) for s in SERVICES.values()  # type: ignore[union-attr]
                for v in s["environment"].values() if REQUIRED.match(str(v))}
    assert required <= set(example), ".env.example must list every required variable"
    assert all(example[name] == "" for name in required), ".env.example must not hold a password"
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_mongodb_requires_authentication_and_runs_the_init_script() -> None:
    env = MONGO["environment"]
    assert env["MONGO_INITDB_ROOT_USERNAME"] and REQUIRED.match(env["MONGO_INITDB_ROOT_PASSWORD"])
    assert "./deploy/mongo-init:/docker-entrypoint-initdb.d:ro" in MONGO["volumes"]
    assert "./deploy/postgres-init:/docker-entrypoint-initdb.d:ro" in POSTGRES["volumes"]
    assert os.access(PG_INIT, os.X_OK), "the postgres image sources non-executable .sh files; keep it executable"


def test_mongo_init_script_grants_readwrite_on_the_samplectl_database_only() -> None:
    script = MONGO_INIT.read_text()
    assert re.search(r"roles:\s*\[\{\s*role:\s*\"readWrite\",\s*db:\s*appDb\s*\}\]", script)
    assert "process.env.SAMPLECTL_MONGO_USER" in script and "process.env.SAMPLECTL_MONGO_PASSWORD" in script
    assert "process.env.MONGO_INITDB_DATABASE" in script
    for powerful in ("root", "dbOwner", "userAdmin", "readWriteAnyDatabase", "clusterAdmin", "dbAdmin"):
        assert f'"{powerful}"' not in script


def test_deployment_doc_mongodb_uri_matches_the_compose_user_port_and_database() -> None:
    env = MONGO["environment"]
    uri = urlsplit(documented_export("SAMPLECTL_MONGODB_URI"))
    assert uri.scheme == "mongodb"
    assert uri.username == env["SAMPLECTL_MONGO_USER"]
    assert uri.password == "${SAMPLECTL_MONGO_PASSWORD}"  # the variable the compose file passes to the script
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
    assert (url.hostname, url.port) == published(POSTGRES, 5432)
    assert url.path == "/" + env["SAMPLECTL_PG_DB"]


def test_deployment_doc_tells_how_to_start_and_load_the_env_file() -> None:
    section = real_servers_section()
    assert "docker compose up -d" in section
    assert "cp .env.example .env" in section
    assert "set -a; . ./.env; set +a" in section


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
def test_postgres_init_script_creates_a_least_privilege_owner(postgres_server: dict[str, str]) -> None:
    env = POSTGRES["environment"]
    app_password = "app-pw-4711"
    run_env = {**os.environ, **postgres_server, "POSTGRES_USER": env["POSTGRES_USER"],
               "POSTGRES_DB": env["POSTGRES_DB"], "SAMPLECTL_PG_USER": env["SAMPLECTL_PG_USER"],
               "SAMPLECTL_PG_PASSWORD": app_password, "SAMPLECTL_PG_DB": env["SAMPLECTL_PG_DB"]}
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
