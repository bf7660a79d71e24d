#!/usr/bin/env bash
# Runs every kda test after setting up (utils/setup.sh): the lit suite
# (dialect, passes), the C tests (ctest) and the Python tests (pytest, which
# include the live cross-validation against fla and the lint of lit
# directives). Each runner reports its own counts; the last line sums them.
# Exits non-zero if any test fails or any runner runs no test.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${KDA_BUILD_DIR:-$root/build}
python=$("$root/utils/setup.sh") || { echo "setup failed" >&2; exit 1; }
results=$build/test-results
rm -rf "$results"
mkdir -p "$results"

echo "== lit =="
/usr/lib/llvm-22/bin/lit -sv --xunit-xml-output "$results/lit.xml" "$build/test"
echo "== C tests (ctest) =="
ctest --test-dir "$build" --label-exclude gpu --output-on-failure \
  --output-junit "$results/ctest.xml"
echo "== Python tests (pytest) =="
(cd "$root" && KDA_LIBRARY="$build/lib/libkda.so" "$python" -m pytest -q \
  -p no:cacheprovider --junitxml "$results/pytest.xml" test/python)

echo "== summary =="
python3 "$root/utils/summarize-tests.py" "$results/lit.xml" "$results/ctest.xml" \
  "$results/pytest.xml"
