# -*- Python -*-
# lit configuration of the kda suite. Paths come from lit.site.cfg.py; all
# logic is here. Only .mlir files are tests: C and Python tests run under
# ctest and pytest.

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "kda"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py",
                   "runtime", "python", "gpu"]

config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kda_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))

# Strict FileCheck: no leaking variables across CHECK-LABELs, no prefix that
# checks nothing.
config.environment["FILECHECK_OPTS"] = (
    "-enable-var-scope --allow-unused-prefixes=false")

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
# `not` and `count` at the start of a RUN line are found on PATH.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.kda_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["kda-opt", "kda-compile"], tool_dirs)

# ptxas (CUDA toolkit) assembles emitted PTX for sm_90a: the cheapest proof
# that the PTX is valid on a machine without a GPU. Tests use it through
# `%if ptxas %{ ... %}`.
import shutil
ptxas = shutil.which("ptxas") or (
    "/usr/local/cuda/bin/ptxas" if os.path.exists("/usr/local/cuda/bin/ptxas") else None)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
