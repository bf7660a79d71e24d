"""pytest setup: import kda from the source tree and load the built library
(KDA_LIBRARY, or build/lib/libkda.so found by kda itself)."""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "runtime" / "python"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
