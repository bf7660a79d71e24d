#!/usr/bin/env python3
"""Sums JUnit XML reports (lit, ctest, pytest) into one line per runner and a
closing `kda: N passed, N failed` line. Exits 1 if anything failed, a
report is missing, or a runner ran no test."""

import sys
import xml.etree.ElementTree as ET


def counts(path):
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
    total = failed = skipped = 0
    for suite in suites:
        total += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0)) + int(suite.get("disabled", 0))
    return total - failed - skipped, failed, skipped


def main(paths):
    ok = True
    passed_all = failed_all = skipped_all = 0
    for path in paths:
        name = path.rsplit("/", 1)[-1].removesuffix(".xml")
        try:
            passed, failed, skipped = counts(path)
        except (OSError, ET.ParseError) as error:
            print(f"{name}: no report ({error})")
            ok = False
            continue
        print(f"{name}: {passed} passed, {failed} failed, {skipped} skipped")
        if passed + failed == 0:
            print(f"{name}: ran no test")
            ok = False
        ok = ok and failed == 0
        passed_all += passed
        failed_all += failed
        skipped_all += skipped
    line = f"kda: {passed_all} passed, {failed_all} failed"
    if skipped_all:
        line += f", {skipped_all} skipped"
    print(line)
    return 0 if ok and failed_all == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
