"""Prints "NAME: P passed, F failed" from the Maven surefire reports in the current directory.

Usage: MVN_STATUS=<maven's exit status> python3 surefire-summary.py NAME
A failing Maven run with no failed test (compiling, set-up) counts as one failure.
"""
import glob
import os
import sys
import xml.etree.ElementTree as ET

tests = failed = skipped = 0
for f in glob.glob("target/surefire-reports/TEST-*.xml"):
    r = ET.parse(f).getroot()
    tests += int(r.get("tests", 0))
    failed += int(r.get("failures", 0)) + int(r.get("errors", 0))
    skipped += int(r.get("skipped", 0))
passed = tests - failed - skipped
if os.environ.get("MVN_STATUS", "0") != "0" and failed == 0:
    failed = 1
print(f"{sys.argv[1]}: {passed} passed, {failed} failed")
