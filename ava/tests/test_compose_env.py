"""Every setting ava/settings.py reads can reach the containers docker-compose.yml runs."""

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
SERVICES = ("web", "worker", "beat")


def names_settings_reads():
    """The variable names ava/settings.py passes to ava.env's readers (env.get_str("NAME", …) and the like)."""
    tree = ast.parse((ROOT / "ava" / "settings.py").read_text())
    names = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name) and node.func.value.id == "env"
        and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
    }
    assert len(names) > 50, "the settings are read through ava.env; did the way they are read change?"
    return names


def names_env_example_lists():
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))


def env_files(service):
    files = service.get("env_file") or []
    files = [files] if isinstance(files, (str, dict)) else files
    return [entry if isinstance(entry, str) else entry["path"] for entry in files]


def environment(service):
    given = service.get("environment") or {}
    if isinstance(given, list):  # ["NAME=value", "NAME"]
        return {item.split("=", 1)[0] for item in given}
    return set(given)


@pytest.fixture(scope="module")
def compose():
    # PyYAML's safe loader follows the file's anchors and `<<` merges, as Compose does.
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_variable_settings_reads_is_listed_in_env_example():
    assert names_settings_reads() - names_env_example_lists() == set()


@pytest.mark.parametrize("name", SERVICES)
def test_every_variable_settings_reads_reaches_the_service(compose, name):
    service = compose["services"][name]
    # .env is the operator's copy of .env.example, passed whole; `environment` adds the compose wiring.
    from_file = names_env_example_lists() if ".env" in env_files(service) else set()

    unreachable = names_settings_reads() - from_file - environment(service)

    assert unreachable == set(), f"{name} never sees {sorted(unreachable)}"


@pytest.mark.parametrize("name", SERVICES)
def test_the_service_runs_on_the_compose_database_and_redis_whatever_env_says(compose, name):
    given = compose["services"][name]["environment"]
    assert given["DATABASE_URL"].startswith("postgres://") and given["REDIS_URL"].startswith("redis://")
    assert given["DEBUG"] == "0"
