"""One summary line for a schemathesis run, from its JUnit report and its console output.

Usage: fuzz_summary.py ROLE EXIT_CODE JUNIT_XML OUTPUT_TXT
"""

import re
import sys
import xml.etree.ElementTree as ET


def main():
    role, code, junit, output = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    operations = failing = errored = 0
    try:
        root = ET.parse(junit).getroot()
        for case in root.iter("testcase"):
            # One test case per operation, plus one for the stateful phase.
            if case.get("name") != "Stateful tests":
                operations += 1
            if case.find("failure") is not None:
                failing += 1
            elif case.find("error") is not None:
                errored += 1
    except (OSError, ET.ParseError):
        pass
    cases = failures = 0
    try:
        with open(output, encoding="utf-8", errors="replace") as f:
            text = f.read()
        found = re.search(r"(\d+) generated, (?:(\d+) found (\d+) unique failures?|\d+ passed)", text)
        if found:
            cases = int(found.group(1))
            failures = int(found.group(3) or 0)
    except OSError:
        pass
    verdict = "OK" if code == 0 else "FAILED"
    print(
        f"{role}: {cases} cases on {operations} operations, {failures} unique failures "
        f"({failing} operations failing, {errored} errors), exit {code}: {verdict}"
    )


if __name__ == "__main__":
    main()
