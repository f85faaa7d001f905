"""The built wheel is a package users can depend on: typed (PEP 561 markers), MIT-licensed,
one version everywhere, and a pytest plugin that never breaks the user's own test runs.

The wheel is built offline with the project's own build backend (hatchling, through ``build``
without isolation, so nothing is downloaded), into a temporary directory. The install test puts
it, without extras, into a fresh virtual environment with pip as the machine configures it (the
package's dependencies and pytest come from there: pip's index or mirror), as a user would.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("azureinference", "langchain_azureinference", "llamaindex_azureinference")


@pytest.fixture(scope="module")
def wheel_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("build", reason="the 'build' package (dev extra) builds the wheel")
    pytest.importorskip("hatchling", reason="hatchling (dev extra) is the build backend")
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (path,) = out.glob("*.whl")
    return path


@pytest.fixture(scope="module")
def wheel(wheel_path: Path) -> Iterator[zipfile.ZipFile]:
    with zipfile.ZipFile(wheel_path) as zf:
        yield zf


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_ships_a_py_typed_marker(wheel: zipfile.ZipFile, package: str) -> None:
    assert f"{package}/py.typed" in wheel.namelist()


def test_the_source_tree_has_the_markers_too() -> None:
    # An editable install reads them from here.
    for package in PACKAGES:
        assert (ROOT / package / "py.typed").is_file()


def test_the_wheel_carries_the_mit_license(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    licenses = [n for n in names if ".dist-info/" in n and Path(n).name.startswith("LICENSE")]
    assert licenses, names
    assert "MIT License" in wheel.read(licenses[0]).decode()
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    text = wheel.read(metadata).decode()
    assert "License: MIT" in text or "License-Expression: MIT" in text


def test_the_wheel_holds_the_model_profiles(wheel: zipfile.ZipFile) -> None:
    assert "azureinference/profiles.py" in wheel.namelist()


def test_the_packages_never_import_the_peers() -> None:
    code = (
        "import sys, azureinference, langchain_azureinference, llamaindex_azureinference\n"
        "from azureinference import profiles\n"
        "peers = ('langchain_azure_ai', 'llama_index.llms.azure_inference',\n"
        "         'llama_index.embeddings.azure_inference', 'azure.ai.inference', 'openai')\n"
        "print(sorted(m for m in sys.modules if m.startswith(peers)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def _source_version() -> str:
    match = re.search(
        r'^__version__ = "([^"]+)"$', (ROOT / "azureinference/__init__.py").read_text(), re.M
    )
    assert match, "azureinference/__init__.py sets __version__"
    return match.group(1)


def test_one_version_in_the_wheel_the_package_and_the_changelog(wheel: zipfile.ZipFile) -> None:
    import azureinference

    (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    (wheel_version,) = re.findall(r"^Version: (.+)$", wheel.read(metadata).decode(), re.M)
    newest = re.search(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert newest, "CHANGELOG.md has a version heading"
    assert wheel_version == azureinference.__version__ == _source_version() == newest.group(1)


def test_the_plugin_is_a_top_level_module_the_entry_point_names(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    assert "azureinference_pytest.py" in names
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "[pytest11]\nazureinference_emulator = azureinference_pytest\n" in text


# A user's project: one trivial test, one that records what the plugin imported, one that asks
# for the emulator fixture without the extra.
_USER_TESTS = """
import sys


def test_trivial():
    assert 1 + 1 == 2


def test_the_plugin_loaded_and_imported_nothing_of_ours():
    ours = ("azureinference", "langchain_azureinference", "llamaindex_azureinference")
    loaded = sorted(m for m in sys.modules if m.split(".")[0].startswith(ours))
    assert loaded == ["azureinference_pytest"], loaded


def test_emulator(azure_inference_emulator):
    pass
"""


@pytest.fixture(scope="module")
def fresh_venv(wheel_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with the wheel (no extras) and pytest, installed by pip."""
    venv = tmp_path_factory.mktemp("venv")
    # No pip of its own (ensurepip is slow): ours installs into it through --python.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            str(wheel_path),
            "pytest",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return python


def test_a_fresh_install_without_extras_runs_a_users_tests(
    fresh_venv: Path, tmp_path: Path
) -> None:
    (tmp_path / "test_user.py").write_text(textwrap.dedent(_USER_TESTS))
    result = subprocess.run(
        [str(fresh_venv), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = result.stdout + result.stderr
    # The plugin loaded; the two plain tests pass; the fixture's test fails, naming the extra.
    assert "2 passed, 1 error" in out, out
    assert result.returncode == 1, out
    assert "ERROR at setup of test_emulator" in out, out
    assert "pip install 'azure-inference-integrations[emulator]'" in out, out


def test_a_fresh_install_reports_its_version(fresh_venv: Path) -> None:
    code = (
        "import importlib.metadata, azureinference\n"
        "print(importlib.metadata.version('azure-inference-integrations'), "
        "azureinference.__version__)\n"
    )
    result = subprocess.run(
        [str(fresh_venv), "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == [_source_version(), _source_version()]
