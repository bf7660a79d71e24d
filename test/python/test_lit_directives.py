"""Lint of the lit suite: a RUN or CHECK directive without its colon checks
nothing, and a .mlir test outside the suite's reach never runs."""

import pathlib
import re

TEST_ROOT = pathlib.Path(__file__).resolve().parents[1]
# A comment that starts with a directive word but has no colon after it.
INERT = re.compile(
    r"^\s*(//|#|;)\s*(RUN|CHECK(-[A-Z]+)?|[A-Z]+-CHECK(-[A-Z]+)?)\s+[^:\s]")
# lit.cfg.py excludes these folders from the .mlir suite; Inputs/ holds
# files that tests read, not tests.
NOT_LIT = {"runtime", "python", "gpu"}
INPUTS = "Inputs"


def inert_directives(text):
    return [line for line in text.splitlines() if INERT.match(line)]


def test_lint_catches_a_missing_colon():
    assert inert_directives("// CHECK foo\n// RUN kda-opt %s\n// CHECK-NEXT bar")
    assert not inert_directives("// CHECK: foo\n// RUN: kda-opt %s\n// CHECK-LABEL: @f")


def test_no_directive_lacks_its_colon():
    sources = [p for p in TEST_ROOT.rglob("*")
               if p.suffix in {".mlir", ".c", ".py", ".ll", ".ptx"} and p.is_file()
               and p != pathlib.Path(__file__).resolve()]
    bad = [f"{p.relative_to(TEST_ROOT)}: {line.strip()}"
           for p in sources for line in inert_directives(p.read_text())]
    assert not bad, "directives without a colon:\n" + "\n".join(bad)


def test_every_mlir_test_is_in_the_suite():
    mlir = list(TEST_ROOT.rglob("*.mlir"))
    assert mlir, "no .mlir test found"
    stray = [p for p in mlir if NOT_LIT & set(p.relative_to(TEST_ROOT).parts)]
    assert not stray, f".mlir files lit never runs: {stray}"
    no_run = [p for p in mlir if INPUTS not in p.parts and "// RUN:" not in p.read_text()]
    assert not no_run, f".mlir tests without a RUN line: {no_run}"
