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
                   "runtime", "python"]

config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kda_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))

# Strict FileCheck: no leaking variables across CHECK-LABELs, no prefix that
# checks nothing.
config.environment["FILECHECK_OPTS"] = (
    "-enable-var-scope --allow-unused-prefixes=false")

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.kda_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["kda-opt"], tool_dirs)
