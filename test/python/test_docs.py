"""The dialect reference in docs/ is the one TableGen generates from the ODS
definitions (`ninja mlir-doc`): docs match the code."""

import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("KDA_BUILD_DIR", ROOT / "build"))


def test_dialect_reference_is_current():
    generated = BUILD / "docs" / "Dialects" / "KDADialect.md"
    committed = ROOT / "docs" / "generated" / "KDADialect.md"
    assert generated.exists(), f"{generated} missing: run `ninja -C {BUILD} mlir-doc`"
    assert committed.read_text() == generated.read_text(), (
        f"{committed} is stale: copy {generated} over it")
