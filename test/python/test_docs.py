"""The dialect and pass references in docs/generated are the ones TableGen
generates from the ODS and pass definitions (`ninja mlir-doc`): docs match
the code."""

import pytest

import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("KDA_BUILD_DIR", ROOT / "build"))


@pytest.mark.parametrize("name", ["Dialects/KDADialect.md", "KDAConversionPasses.md"])
def test_reference_is_current(name):
    generated = BUILD / "docs" / name
    committed = ROOT / "docs" / "generated" / pathlib.Path(name).name
    assert generated.exists(), f"{generated} missing: run `ninja -C {BUILD} mlir-doc`"
    assert committed.read_text() == generated.read_text(), (
        f"{committed} is stale: copy {generated} over it")
