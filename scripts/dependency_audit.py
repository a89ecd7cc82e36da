"""Audit the pinned dependencies (requirements/dev.txt, which holds every package
of requirements/runtime.txt too) with pip-audit; used by ./test.

Fails on any known vulnerability not listed in IGNORED with its reason. When
PyPI's vulnerability data cannot be reached (some mirrors serve the package
index but not the per-release JSON pip-audit reads), it says so loudly and
passes: an audit that could not run is not a red build, but it is not hidden.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements" / "dev.txt"
# Vulnerability id -> why it does not affect LedgerBridge (and when to look again).
IGNORED: dict[str, str] = {}


def pins(path: Path) -> dict[str, str]:
    """name -> version of a requirements file written by scripts/lock.sh."""
    found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", path.read_text(), re.M)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in found}


def main() -> int:
    # Auditing dev.txt covers the runtime only while the runtime is a subset of it.
    runtime, dev = pins(ROOT / "requirements" / "runtime.txt"), pins(REQUIREMENTS)
    apart = {name: version for name, version in runtime.items() if dev.get(name) != version}
    if apart:
        print(f"requirements/runtime.txt pins what dev.txt does not: {apart}; run scripts/lock.sh")
        return 1
    # A dependency added to pyproject.toml but not locked would be missing: the
    # project itself is installed with --no-deps.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = {
        "runtime.txt": (runtime, [*project["dependencies"], *extras["sandbox"]]),
        "dev.txt": (dev, [*project["dependencies"], *(r for e in extras.values() for r in e)]),
    }
    for file, (pinned, requirements) in wanted.items():
        names = {
            re.sub(r"[-_.]+", "-", re.split(r"[\s\[<>=!~;]", r)[0]).lower() for r in requirements
        }
        if missing := sorted(names - set(pinned)):
            print(f"requirements/{file} lacks {', '.join(missing)}: run scripts/lock.sh")
            return 1
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "audit.json"
        command = [
            sys.executable, "-m", "pip_audit", "--progress-spinner", "off",
            "--requirement", str(REQUIREMENTS), "--no-deps", "--disable-pip",
            "--format", "json", "--output", str(report_path),
            *(arg for vuln in IGNORED for arg in ("--ignore-vuln", vuln)),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True)
        if not report_path.exists():
            print(done.stdout + done.stderr, file=sys.stderr)
            print("pip-audit did not run.", file=sys.stderr)
            return 1
        report = json.loads(report_path.read_text())
    dependencies = report["dependencies"]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed release"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    for vuln, reason in IGNORED.items():
        print(f"ignored {vuln}: {reason}")
    audited = len(dependencies) - len(skipped)
    print(
        f"pip-audit: {audited} of {len(dependencies)} pinned packages audited, "
        f"{len(vulnerable)} with known vulnerabilities"
    )
    if skipped and not audited:
        print(
            "WARNING: no package could be audited: PyPI's per-release vulnerability data "
            f"was not reachable ({skipped[0]['skip_reason']})."
        )
    elif skipped:
        print("not audited: " + ", ".join(d["name"] for d in skipped))
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
