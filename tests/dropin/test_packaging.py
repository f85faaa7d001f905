"""The built wheel is a package users can depend on: typed (PEP 561 markers), MIT-licensed.

The wheel is built offline with the project's own build backend (hatchling, through ``build``
without isolation, so nothing is downloaded), into a temporary directory.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("azureinference", "langchain_azureinference", "llamaindex_azureinference")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
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
    with zipfile.ZipFile(path) as zf:
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
