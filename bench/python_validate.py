#!/usr/bin/env python3
"""Validates a bsic output tree the usual way, for bench/compare.sh: every DDM declaration
(JSON) against schemas/apple/declaration.<Type>.schema.json, every profile (XML plist, read with
plistlib) against profile.TopLevel plus profile.<PayloadType> for each payload, with the
`jsonschema` package. This is the same check `bsic build` does before writing.

usage: python_validate.py DIST [SCHEMAS_DIR]
Exit 0 when everything validates, 1 otherwise (the first failures are printed).
"""
import datetime
import json
import pathlib
import plistlib
import sys

import jsonschema

dist = pathlib.Path(sys.argv[1])
schemas_dir = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else "schemas/apple")
validators = {}


def validator(name):
    if name not in validators:
        path = schemas_dir / f"{name}.schema.json"
        if not path.exists():
            validators[name] = None
        else:
            schema = json.loads(path.read_text())
            cls = jsonschema.validators.validator_for(schema)
            validators[name] = cls(schema)
    return validators[name]


def plain(value):
    """plistlib values → JSON values (dates and data as strings, as bsic does)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


errors = []
checked = 0


def check(name, instance, path):
    global checked
    v = validator(name)
    if v is None:
        return
    checked += 1
    for error in v.iter_errors(instance):
        errors.append(f"{path}: {name}: {error.message}")


for path in sorted(dist.rglob("*")):
    if path.suffix == ".json" and path.name != "manifest.json":
        declaration = json.loads(path.read_bytes())
        check(f"declaration.{declaration.get('Type')}", declaration, path)
    elif path.suffix == ".mobileconfig":
        profile = plain(plistlib.loads(path.read_bytes()))
        payloads = profile.get("PayloadContent", [])
        check("profile.TopLevel", dict(profile, PayloadContent=[]), path)
        for payload in payloads:
            check(f"profile.{payload.get('PayloadType')}", payload, path)

print(f"validated {checked} documents, {len(errors)} errors", file=sys.stderr)
for error in errors[:10]:
    print(error, file=sys.stderr)
sys.exit(1 if errors else 0)
