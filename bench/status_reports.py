#!/usr/bin/env python3
"""Writes N DDM status reports (JSON Lines) and an N-row inventory for the status fixture
project, the input of `bench/status.sh`.

Usage: status_reports.py MANIFEST N OUT_DIR

The reports have the shape of `tests/integration/status.rs`'s generator (checked there
against Apple's statusreport.yaml): full reports with the device's OS, supplemental build,
software-update state and the declarations of the groups it holds, taken from MANIFEST
(the manifest.json of a build of tests/fixtures/status/fleet). Devices cycle through every
state: compliant, on the base only, downloading, failed, skipped to a newer base.
"""
import json
import os
import sys

manifest_path, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
manifest = json.load(open(manifest_path))
os.makedirs(out, exist_ok=True)

declarations = {}
for artifact in manifest["artifacts"]:
    if artifact["kind"] != "declaration":
        continue
    group = artifact["groups"][0]
    kind = "activations" if artifact["type"] == "com.apple.activation.simple" else "configurations"
    declarations.setdefault(group, []).append(
        (kind, {"identifier": artifact["identifier"], "server-token": artifact["token"],
                "active": True, "valid": "valid"}))

STATES = [
    ("26.3.1", "25D2128", ("25D771280a", "(a)"), "none", None),
    ("26.3.1", "25D2128", None, "none", None),
    ("26.3", "25D60", None, "downloading", None),
    ("26.3", "25D60", None, "failed", "the download failed"),
    ("26.4", "25E5207", None, "none", None),
]
GROUPS = ["kiosks", "lab", "kiosks;lab"]

with open(os.path.join(out, "reports.jsonl"), "w") as reports, \
        open(os.path.join(out, "devices.csv"), "w") as inventory:
    inventory.write("serial,groups,platform\n")
    for n in range(count):
        serial = f"C02{n:08d}"
        version, build, bsi, install, failure = STATES[n % len(STATES)]
        groups = GROUPS[n % len(GROUPS)]
        inventory.write(f"{serial},{groups},macOS\n")
        system = {"family": "macOS", "version": version, "build-version": build}
        if bsi:
            system["supplemental"] = {"build-version": bsi[0], "extra-version": bsi[1]}
        update = {"install-state": install}
        if failure:
            update["failure-reason"] = {"count": 1, "reason": failure,
                                        "timestamp": "2026-12-30T08:00:00Z"}
        held = {"activations": [], "configurations": [], "assets": [], "management": []}
        for group in groups.split(";"):
            for kind, entry in declarations.get(group, []):
                held[kind].append(entry)
        report = {
            "StatusItems": {
                "device": {"identifier": {"serial-number": serial},
                           "operating-system": system},
                "softwareupdate": update,
                "management": {"declarations": held},
            },
            "Errors": [],
            "FullReport": True,
        }
        reports.write(json.dumps(report, separators=(",", ":")) + "\n")
