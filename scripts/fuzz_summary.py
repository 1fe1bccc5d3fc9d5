"""One summary line for a schemathesis run, from its JUnit report.

Usage: fuzz_summary.py ROLE EXIT_CODE JUNIT_XML
"""

import sys
import xml.etree.ElementTree as ET


def main():
    role, code, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    operations = failed = errored = skipped = 0
    try:
        root = ET.parse(path).getroot()
        for case in root.iter("testcase"):
            operations += 1
            if case.find("failure") is not None:
                failed += 1
            elif case.find("error") is not None:
                errored += 1
            elif case.find("skipped") is not None:
                skipped += 1
    except (OSError, ET.ParseError):
        pass
    verdict = "OK" if code == 0 else "FAILED"
    print(
        f"{role}: {operations} operations, {failed} failing, {errored} errors, "
        f"{skipped} skipped, exit {code}: {verdict}"
    )


if __name__ == "__main__":
    main()
