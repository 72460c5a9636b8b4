//! The upload scripts of the MDM layouts, run for real against a local stand-in of each MDM's
//! HTTP API that checks every request the way that API documents it (headers, auth, paths,
//! bodies), and fails on anything else.

use std::fs;

use serde_json::Value;

use crate::util::{Project, repo};

/// What every stand-in shares: a quiet JSON-speaking handler whose `fail` records what was
/// wrong and answers 400 and whose `oauth_token` grants client credentials, a server on a
/// free local port, and `upload`, which runs the layout's `upload.sh` with an environment
/// (under `sh` and `bash --posix` in turn) and returns its exit code, stderr and the recorded
/// calls.
const PRELUDE: &str = r#"
import base64, json, os, plistlib, shutil, subprocess, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs, unquote

calls, errors = [], []
# The stand-in's credentials: none may show in another process's arguments while a request is
# served (checked in /proc where there is one), since other users of a CI host can read them.
SECRETS = []
# The access token the token endpoint hands out; a test may make it hostile.
TOKEN = {"value": "TOKEN"}

def leaked():
    found = set()
    for pid in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            args = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
        except OSError:
            continue
        if "class Stub(BaseHTTPRequestHandler)" in args:
            continue  # a stand-in, or its launcher (this test's or another's): its source names secrets
        found.update(secret for secret in SECRETS if secret in args)
    return sorted(found)

class Stub(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body=None, content_type="application/json"):
        for secret in leaked():
            if f"{secret!r} in a process's arguments" not in errors:
                errors.append(f"{secret!r} in a process's arguments")
        if body is None:
            data = b""
        elif isinstance(body, bytes):
            data = body
        else:
            data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def fail(self, message):
        errors.append(f"{self.command} {self.path}: {message}")
        self.reply(400, {"message": message})

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def oauth_token(self, body):
        """An OAuth 2 client-credentials grant for client CLIENT: answers the token TOKEN."""
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form != {"grant_type": "client_credentials", "client_id": "CLIENT",
                    "client_secret": "SECRET s&=x"}:
            return self.fail(f"token form {form}")
        self.reply(200, {"access_token": TOKEN["value"], "token_type": "Bearer",
                         "expires_in": 3600})

def serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"

shells_used = []

def upload(layout, env, kinds, cwd=None):
    # Every other run under bash in POSIX mode (macOS's /bin/sh), the others under sh (dash
    # on Debian).
    shell = ["bash", "--posix"] if len(shells_used) % 2 and shutil.which("bash") else ["sh"]
    shells_used.append(shell)
    calls.clear()
    done = subprocess.run(shell + [os.path.join(layout, "upload.sh")], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    return {"code": done.returncode, "stderr": done.stderr,
            "calls": [c for c in calls if c[0] in kinds]}

def environment(without_prefix):
    return {k: v for k, v in os.environ.items() if not k.startswith(without_prefix)}
"#;

/// The reference project built with one MDM layout, and that layout's directory.
fn build(target: &str) -> (Project, std::path::PathBuf) {
    let project = Project::reference();
    let out = project.join("dist");
    project
        .bsic()
        .args(["build", "-t", target, "--out"])
        .arg(&out)
        .run()
        .assert_code(0);
    (project, out.join(target))
}

/// The calls of one kind a stand-in recorded during a run, each without its kind.
fn calls_of(run: &Value, kind: &str) -> Vec<Value> {
    run["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c[0] == kind)
        .map(|c| c.as_array().unwrap()[1..].to_vec().into())
        .collect()
}

/// A run that stopped with `message` on stderr.
fn assert_stopped(run: &Value, message: &str) {
    let stderr = run["stderr"].as_str().unwrap_or_default();
    assert_ne!(run["code"], 0, "{stderr}");
    assert!(stderr.contains(message), "{stderr}");
}

/// A stand-in of Workspace ONE UEM's REST API: the smart-group search (v1), the profile
/// search, create and update (v2) and the OAuth token endpoint, as Omnissa's UEM SDK calls
/// them. Each create/update body is checked against the v2 request schema in
/// `tests/fixtures/workspace-one/` and its Custom Settings are read back with plistlib. It runs
/// `upload.sh` with the arguments' environment and prints what happened as JSON.
const UEM_STUB: &str = r#"
import jsonschema

layout, schema_path, groups_json, runs_json = sys.argv[1:5]
SECRETS.extend(["SECRET s&=x", "pa:ss word", "TENANT", "TOKEN"])
validator = jsonschema.Draft202012Validator(json.load(open(schema_path)))
groups = [(name, 100 + i) for i, name in enumerate(json.loads(groups_json))]
BSIC = "Generated by bsic for com.example.it (content 0); edit the policies, not this profile"
PAGE = 2   # a small page, so the scripts must page through the search results
profiles = {}   # (name, platform) -> id
generals = {}   # id -> General
stored = {}     # id -> the profile's CustomSettingsList
# A profile whose name contains another's, made by hand: the script must match names exactly
# and never prune it. And a profile an earlier build made for a group no longer built.
profiles[("Software updates: pilot (retired)", "AppleOsX")] = 900
generals[900] = {"Name": "Software updates: pilot (retired)", "Description": "by hand"}
profiles[("Software updates: gone", "Apple iOS")] = 901
generals[901] = {"Name": "Software updates: gone", "Description": BSIC}
# A parent organization group's profile that UEM lists too: not this group's to prune.
profiles[("Software updates: gone", "AppleOsX")] = 902
generals[902] = {"Name": "Software updates: gone", "Description": BSIC}
parent = {902}
PLATFORMS = {"appleosx": "AppleOsX", "apple": "Apple iOS"}
state = {"auth": None}

class Uem(Stub):
    def checked(self, version):
        if self.headers.get("aw-tenant-code") != "TENANT":
            return self.fail("aw-tenant-code header missing or wrong")
        if self.headers.get("Authorization") != state["auth"]:
            if state["auth"] is None:
                # A run with credentials UEM does not know: answered as UEM answers them.
                self.reply(401, {"errorCode": 1005, "message": "User credentials are invalid."})
                return False
            return self.fail(f"Authorization {self.headers.get('Authorization')!r}")
        if self.headers.get("Accept") != f"application/json;version={version}":
            return self.fail(f"Accept {self.headers.get('Accept')!r}, want version {version}")
        return True

    def do_GET(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/api/mdm/smartgroups/search":
            if not self.checked(1):
                return
            if query.get("organizationgroupid") != "42":
                return self.fail("smart-group search outside WS1_OG_ID")
            calls.append(["smartgroup", query.get("name")])
            found = [{"Name": n, "SmartGroupID": i} for n, i in groups
                     if query.get("name", "") in n]
            return self.reply(200, {"SmartGroups": found}) if found else self.reply(204)
        if url.path == "/api/mdm/profiles/search":
            if not self.checked(2):
                return
            if query.get("organizationgroupid") != "42":
                return self.fail("profile search outside WS1_OG_ID")
            text = query.get("searchtext", "")
            found = sorted([{"ProfileId": i, "ProfileName": n, "Platform": p,
                             "OrganizationGroupId": 7 if i in parent else 42}
                            for (n, p), i in profiles.items() if text in n],
                           key=lambda p: p["ProfileId"])
            page = int(query.get("page", "0"))
            part = found[page * PAGE:(page + 1) * PAGE]
            return self.reply(200, {"ProfileList": part, "TotalResults": len(found)}) \
                if part else self.reply(204)
        parts = url.path.split("/")
        if len(parts) == 5 and parts[:4] == ["", "api", "mdm", "profiles"]:
            if not self.checked(2):
                return
            general = generals.get(int(parts[4]))
            if general is None:
                return self.reply(404)
            return self.reply(200, {"General": general,
                                    "CustomSettingsList": stored.get(int(parts[4]), [])})
        self.fail("unknown endpoint")

    def do_DELETE(self):
        parts = urlparse(self.path).path.split("/")
        if len(parts) != 5 or parts[:4] != ["", "api", "mdm", "profiles"]:
            return self.fail("unknown endpoint")
        if not self.checked(2):
            return
        general = generals.pop(int(parts[4]), None)
        if general is None:
            return self.fail("delete of an unknown profile")
        for key, id in list(profiles.items()):
            if id == int(parts[4]):
                del profiles[key]
        calls.append(["delete", general["Name"]])
        self.reply(200)

    def do_POST(self):
        url = urlparse(self.path)
        body = self.body()
        if url.path == "/connect/token":
            return self.oauth_token(body)
        parts = url.path.split("/")
        if len(parts) != 7 or parts[:5] != ["", "api", "mdm", "profiles", "platforms"] \
                or parts[5] not in PLATFORMS or parts[6] not in ("create", "update"):
            return self.fail("unknown endpoint")
        if not self.checked(2):
            return
        if self.headers.get("Content-Type") != "application/json":
            return self.fail("Content-Type is not application/json")
        profile = json.loads(body)
        problems = [e.message for e in validator.iter_errors(profile)]
        if problems:
            return self.fail(f"schema: {problems}")
        general = profile["General"]
        platform = PLATFORMS[parts[5]]
        if general.get("ManagedLocationGroupID") != 42:
            return self.fail("ManagedLocationGroupID is not WS1_OG_ID")
        [assigned] = general["AssignedSmartGroups"]
        if dict(groups).get(assigned.get("Name")) != assigned.get("SmartGroupId"):
            return self.fail(f"smart group {assigned}")
        for item in profile["CustomSettingsList"]:
            payload = plistlib.loads(
                ('<plist version="1.0">' + item["CustomSettings"] + "</plist>").encode())
            for key in ("PayloadType", "PayloadUUID", "PayloadIdentifier", "PayloadVersion"):
                if key not in payload:
                    return self.fail(f"Custom Settings without {key}")
        key = (general["Name"], platform)
        if parts[6] == "create":
            if key in profiles:
                return self.fail(f"{key} created twice")
            profiles[key] = 1000 + len(profiles)
            generals[profiles[key]] = general
            stored[profiles[key]] = profile["CustomSettingsList"]
            calls.append(["create", parts[5], general["Name"], assigned["Name"]])
            return self.reply(201, profiles[key])
        if profiles.get(key) != general.get("ProfileId") \
                or not isinstance(general.get("CreateNewVersion"), bool):
            return self.fail(f"update of {key} with ProfileId {general.get('ProfileId')}")
        unchanged = generals[profiles[key]].get("Description") == general["Description"]
        if general["CreateNewVersion"] == unchanged:
            return self.fail(f"CreateNewVersion {general['CreateNewVersion']} for {key}")
        calls.append(["version", general["Name"], parts[5], general["CreateNewVersion"]])
        generals[profiles[key]] = general
        stored[profiles[key]] = profile["CustomSettingsList"]
        calls.append(["update", parts[5], general["Name"], assigned["Name"]])
        self.reply(200)

base = serve(Uem)
results = []
for run in json.loads(runs_json):
    env = environment("WS1_")
    env.update({"WS1_API_URL": base, "WS1_TENANT_CODE": "TENANT",
                "WS1_OG_ID": run.get("og", "42")})
    if run["auth"] == "oauth":
        env.update({"WS1_TOKEN_URL": base + "/connect/token", "WS1_CLIENT_ID": "CLIENT",
                    "WS1_CLIENT_SECRET": "SECRET s&=x"})
        state["auth"] = "Bearer TOKEN"
    elif run["auth"] == "basic":
        env.update({"WS1_USERNAME": "admin", "WS1_PASSWORD": "pa:ss word"})
        state["auth"] = "Basic " + base64.b64encode(b"admin:pa:ss word").decode()
    else:
        env.update({"WS1_USERNAME": "admin", "WS1_PASSWORD": "wrong"})
        state["auth"] = None
    if run.get("prune"):
        env["BSIC_PRUNE"] = "1"
    for name in run.get("drop_groups", []):
        groups = [(n, i) for n, i in groups if n != name]
    for name in run.get("duplicate_groups", []):
        groups.append((name, 999))
    if run.get("touch") or run.get("squatter"):
        # An earlier build's content, or a same-named profile someone made by hand.
        first = min(stored)
        description = BSIC.replace("content 0", "content old") if run.get("touch") else "by hand"
        generals[first] = dict(generals[first], Description=description)
    results.append(upload(layout, env, ("create", "update", "delete", "version")))
print(json.dumps({"runs": results, "errors": errors}))
"#;

#[test]
fn workspace_one_upload_creates_then_updates_every_profile_through_the_uem_api() {
    if crate::util::which("jq").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "no jq on PATH under CI (.ci/run installs it)"
        );
        eprintln!("skipped: workspace-one/upload.sh needs jq");
        return;
    }
    let (_project, layout) = build("workspace-one");
    // What the script must upload: one body per profile and UEM platform.
    let mut bodies = Vec::new();
    for group in fs::read_dir(layout.join("api")).unwrap() {
        let group = group.unwrap().path();
        for file in fs::read_dir(&group).unwrap() {
            let file = file.unwrap().path();
            let body: Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
            let segment = file
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.rsplit('.').next())
                .unwrap()
                .to_string();
            bodies.push((
                segment,
                body["General"]["Name"].as_str().unwrap().to_string(),
                group.file_name().unwrap().to_string_lossy().into_owned(),
            ));
        }
    }
    bodies.sort();
    assert!(bodies.len() >= 4, "{bodies:?}");
    let groups: Vec<&str> = {
        let mut g: Vec<&str> = bodies.iter().map(|b| b.2.as_str()).collect();
        g.sort_unstable();
        g.dedup();
        g
    };
    let schema = repo("tests/fixtures/workspace-one/device-profile-v2.schema.json");
    let runs = r#"[{"auth": "oauth"}, {"auth": "basic"}, {"auth": "basic", "touch": true},
        {"auth": "basic", "prune": true}, {"auth": "basic", "og": "CorpUS"},
        {"auth": "basic", "duplicate_groups": ["staff"]},
        {"auth": "basic", "drop_groups": ["pilot"]}, {"auth": "wrong"},
        {"auth": "basic", "squatter": true}]"#;
    let groups_json = serde_json::to_string(&groups).unwrap();
    let run = crate::util::python(
        &format!("{PRELUDE}{UEM_STUB}"),
        &[
            layout.as_os_str(),
            schema.as_os_str(),
            groups_json.as_ref(),
            runs.as_ref(),
        ],
    );
    let report: Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("{e}\n{}", run.describe()));
    assert_eq!(report["errors"], Value::Array(vec![]), "{}", run.describe());
    let runs = report["runs"].as_array().unwrap();
    let uploaded = |run: &Value, verb: &str| -> Vec<(String, String, String)> {
        let mut done: Vec<_> = run["calls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c[0] == verb)
            .map(|c| {
                (
                    c[1].as_str().unwrap().to_string(),
                    c[2].as_str().unwrap().to_string(),
                    c[3].as_str().unwrap().to_string(),
                )
            })
            .collect();
        done.sort();
        done
    };
    // First run: every profile is new, so each is created, in its group, on its platform.
    assert_eq!(runs[0]["code"], 0, "{}", runs[0]["stderr"]);
    assert_eq!(uploaded(&runs[0], "create"), bodies);
    // Second run, with basic auth: the same profiles are found by name (through pages of
    // search results, inside WS1_OG_ID) and updated; their payloads did not change, so
    // without a new version.
    let versions = |run: &Value| -> Vec<bool> {
        calls_of(run, "version")
            .iter()
            .map(|c| c[2].as_bool().unwrap())
            .collect()
    };
    assert_eq!(runs[1]["code"], 0, "{}", runs[1]["stderr"]);
    assert_eq!(uploaded(&runs[1], "update"), bodies);
    assert!(uploaded(&runs[1], "create").is_empty());
    assert!(
        versions(&runs[1]).iter().all(|new| !new),
        "{:?}",
        runs[1]["calls"]
    );
    // A profile whose payloads differ in UEM gets a new version; the others do not.
    assert_eq!(runs[2]["code"], 0, "{}", runs[2]["stderr"]);
    assert_eq!(versions(&runs[2]).iter().filter(|new| **new).count(), 1);
    // Only with BSIC_PRUNE=1 are profiles deleted: the one this project made for a group it
    // no longer builds, never the one made by hand; every built profile is updated as before.
    assert!(
        runs[..3]
            .iter()
            .all(|run| calls_of(run, "delete").is_empty())
    );
    assert_eq!(runs[3]["code"], 0, "{}", runs[3]["stderr"]);
    assert_eq!(uploaded(&runs[3], "update"), bodies);
    assert_eq!(
        calls_of(&runs[3], "delete"),
        [serde_json::json!(["Software updates: gone"])]
    );
    // Runs that must stop before touching anything, each with a message that says why: the
    // organization group's text ID instead of its number, two smart groups of one name, a
    // smart group missing in UEM, and credentials UEM refuses (UEM's answer, not a
    // misleading "no smart group").
    for (run, message) in runs[4..].iter().zip([
        "WS1_OG_ID must be the numeric ID",
        "more than one smart group is named 'staff'",
        "no smart group named 'pilot'",
        "User credentials are invalid",
        "that this project did not make",
    ]) {
        assert_stopped(run, message);
        assert!(uploaded(run, "create").is_empty(), "{}", run["stderr"]);
    }
    assert!(
        !runs[7]["stderr"]
            .as_str()
            .unwrap()
            .contains("no smart group")
    );
}

/// The real KMFDDM runs the whole loop in `real_server.rs` (sets, prune, enrollments, token
/// map, server errors). This stand-in stays only for what the real server cannot show: that
/// every change is sent with `nonotify=1` and the notifications come last, one per changed
/// set (KMFDDM neither records the order nor the flags of requests, and without an MDM it
/// pushes nothing), and that no secret is in a process's arguments while a request is served
/// (seen from the handler, at the moment each request arrives).
///
/// A stand-in of KMFDDM's HTTP API (its `docs/openapi.yaml`): `PUT /v1/declarations`,
/// `GET`, `PUT` and `DELETE /v1/set-declarations/{set}[?declaration=…]`, `GET /v1/sets` and
/// `PUT /v1/enrollment-sets/{id}?set=…`, all with basic auth as `kmfddm` and the API key. A
/// new or changed declaration is answered with 304, as that document specifies. It starts
/// with what an earlier build left behind: a stale member in the pilot set, the set of a
/// group no longer built, and a set bsic does not own. It runs `upload.sh` once per
/// environment given and prints the sets after each run and the enrollments at the end.
const KMFDDM_STUB: &str = r#"
layout, enrollments, runs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
SECRETS.append("KEY k")
declarations = {i: {"Type": "com.apple.configuration.management.test", "Identifier": i,
                    "Payload": {}} for i in ("com.example.it.pilot.old", "com.example.it.gone.x",
                                             "other.x")}
sets = {"com.example.it.pilot": {"com.example.it.pilot.old"},
        "com.example.it.gone": {"com.example.it.gone.x"}, "other": {"other.x"}}
# A device an earlier list put in the pilot group, now listed for staff.
assigned = {"UDID-STAFF-1": {"com.example.it.pilot"}}
AUTH = "Basic " + base64.b64encode(b"kmfddm:KEY k").decode()

class Kmfddm(Stub):
    def route(self):
        if self.headers.get("Authorization") != AUTH:
            self.fail("not authenticated as kmfddm with the API key")
            return None
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        # Changes are made without notifying devices; the script notifies once at the end.
        if self.command in ("PUT", "DELETE") and query.get("nonotify") != "1":
            self.fail("a change that notifies devices before the upload is complete")
            return None
        return url.path.split("/"), query

    def do_GET(self):
        route = self.route()
        if route is None:
            return
        parts, _ = route
        if parts == ["", "v1", "sets"]:
            return self.reply(200, sorted(sets))
        if len(parts) == 4 and parts[:3] == ["", "v1", "declarations"]:
            # Read back for the server token map; KMFDDM answers with its own ServerToken.
            known = declarations.get(unquote(parts[3]))
            if known is None:
                return self.reply(404, {"error": "declaration not found"})
            return self.reply(200, dict(known, ServerToken="stub-" + known["Identifier"]))
        if len(parts) == 4 and parts[:3] == ["", "v1", "set-declarations"]:
            return self.reply(200, sorted(sets.get(unquote(parts[3]), ())))
        if len(parts) == 4 and parts[:3] == ["", "v1", "enrollment-sets"]:
            return self.reply(200, sorted(assigned.get(unquote(parts[3]), ())))
        self.fail("unknown endpoint")

    def do_POST(self):
        route = self.route()
        if route is None:
            return
        parts, query = route
        if parts == ["", "v1", "notify"] and query.get("set"):
            calls.append(["notify", query["set"]])
            return self.reply(204)
        self.fail("unknown endpoint")

    def do_DELETE(self):
        route = self.route()
        if route is None:
            return
        parts, query = route
        if len(parts) == 4 and parts[:3] == ["", "v1", "set-declarations"]:
            members = sets.get(unquote(parts[3]), set())
            if query.get("declaration") not in members:
                return self.reply(304)
            members.discard(query["declaration"])
            calls.append(["removed", unquote(parts[3]), query["declaration"]])
            return self.reply(204)
        if len(parts) == 4 and parts[:3] == ["", "v1", "enrollment-sets"]:
            had = assigned.get(unquote(parts[3]), set())
            if query.get("set") not in had:
                return self.reply(304)
            had.discard(query["set"])
            calls.append(["moved", unquote(parts[3]), query["set"]])
            return self.reply(204)
        self.fail("unknown endpoint")

    def do_PUT(self):
        body = self.body()
        route = self.route()
        if route is None:
            return
        parts, query = route
        if parts == ["", "v1", "declarations"]:
            if self.headers.get("Content-Type") != "application/json":
                return self.fail("Content-Type is not application/json")
            declaration = json.loads(body)
            if not (isinstance(declaration.get("Type"), str)
                    and isinstance(declaration.get("Identifier"), str)
                    and isinstance(declaration.get("Payload"), dict)):
                return self.fail("not a declaration")
            known = declarations.get(declaration["Identifier"])
            declarations[declaration["Identifier"]] = declaration
            calls.append(["declaration", declaration["Identifier"]])
            return self.reply(204 if known == declaration else 304)
        if len(parts) == 4 and parts[:3] == ["", "v1", "set-declarations"]:
            declaration = query.get("declaration")
            if declaration not in declarations:
                return self.fail(f"set member {declaration!r} was never uploaded")
            sets.setdefault(unquote(parts[3]), set()).add(declaration)
            return self.reply(204)
        if len(parts) == 4 and parts[:3] == ["", "v1", "enrollment-sets"]:
            if query.get("set") not in sets:
                return self.fail(f"enrollment assigned to unknown set {query.get('set')!r}")
            assigned.setdefault(unquote(parts[3]), set()).add(query["set"])
            return self.reply(204)
        self.fail("unknown endpoint")

base = serve(Kmfddm)
results = []
for extra in runs:
    env = environment("KMFDDM_")
    env.pop("BSIC_PRUNE", None)
    env.pop("BSIC_ENROLLMENTS", None)
    extra = dict(extra)
    # A line added to staff.txt before the run: another group's ID, or a malformed one.
    line = extra.pop("append", None)
    if line:
        with open(os.path.join(enrollments, "staff.txt"), "a") as f:
            f.write(line + "\n")
    env.update({"KMFDDM_URL": base + "/", "KMFDDM_API_KEY": "KEY k"}, **extra)
    # Run from the project, as CI does: the default enrollments folder is found there. The
    # URL ends in '/', as admins paste it.
    run = upload(layout, env, ("declaration", "removed", "moved", "notify"),
                 cwd=os.path.dirname(enrollments))
    run["sets"] = {k: sorted(v) for k, v in sets.items()}
    results.append(run)
print(json.dumps({"runs": results, "errors": errors,
                  "enrollments": {k: sorted(v) for k, v in assigned.items()}}))
"#;

#[test]
fn kmfddm_upload_fills_one_set_per_group_and_assigns_the_listed_enrollments() {
    let (project, layout) = build("kmfddm");
    let enrollments = project.join("enrollments");
    fs::create_dir_all(&enrollments).unwrap();
    fs::write(
        enrollments.join("pilot.txt"),
        "# pilot Macs\nUDID-PILOT-1\n\n  \nUDID-PILOT-2 # Alice's Mac\r\n",
    )
    .unwrap();
    fs::write(enrollments.join("staff.txt"), "UDID-STAFF-1\n").unwrap();
    let run = crate::util::python(
        &format!("{PRELUDE}{KMFDDM_STUB}"),
        &[
            layout.as_os_str(),
            enrollments.as_os_str(),
            r#"[{}, {"BSIC_PRUNE": "1"}, {"append": "UDID-PILOT-1"}, {"append": "UDID/../x"}]"#
                .as_ref(),
        ],
    );
    let report: Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("{e}\n{}", run.describe()));
    assert_eq!(report["errors"], Value::Array(vec![]), "{}", run.describe());
    let runs = report["runs"].as_array().unwrap();
    for run in &runs[..2] {
        assert_eq!(run["code"], 0, "{}", run["stderr"]);
        // Devices are notified once per changed set, after every change.
        let kinds: Vec<&str> = run["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c[0].as_str().unwrap())
            .collect();
        let first_notify = kinds.iter().position(|k| *k == "notify").unwrap();
        assert!(
            kinds[first_notify..].iter().all(|k| *k == "notify"),
            "{kinds:?}"
        );
    }
    // Every declaration of the layout was uploaded once per run.
    assert_eq!(
        calls_of(&runs[0], "declaration").len(),
        fs::read_dir(layout.join("declarations")).unwrap().count()
    );
    // Each group's set holds exactly the declarations its `sets/<group>.txt` lists: the stale
    // member is taken out. Sets of groups no longer built, and sets bsic does not own, stay.
    let mapping = fs::read_to_string(layout.join("enrollment-sets.tsv")).unwrap();
    let mut expected_sets = serde_json::Map::new();
    let mut set_of = std::collections::BTreeMap::new();
    for line in mapping.lines().filter(|l| !l.starts_with('#')) {
        let (group, set) = line.split_once('\t').unwrap();
        let mut members: Vec<String> = fs::read_to_string(layout.join(format!("sets/{group}.txt")))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        members.sort();
        expected_sets.insert(set.to_string(), members.into());
        set_of.insert(group.to_string(), set.to_string());
    }
    expected_sets.insert("other".into(), serde_json::json!(["other.x"]));
    expected_sets.insert(
        "com.example.it.gone".into(),
        serde_json::json!(["com.example.it.gone.x"]),
    );
    assert_eq!(runs[0]["sets"], Value::Object(expected_sets.clone()));
    assert_eq!(
        calls_of(&runs[0], "removed"),
        [serde_json::json!([
            "com.example.it.pilot",
            "com.example.it.pilot.old"
        ])]
    );
    // With BSIC_PRUNE=1 the set of the group no longer built is emptied too; nothing else moves.
    expected_sets.insert("com.example.it.gone".into(), serde_json::json!([]));
    assert_eq!(runs[1]["sets"], Value::Object(expected_sets));
    assert_eq!(
        calls_of(&runs[1], "removed"),
        [serde_json::json!([
            "com.example.it.gone",
            "com.example.it.gone.x"
        ])]
    );
    // Each run notifies the sets it changed: every group's, and the pruned one.
    let notified = |run: &Value| -> Vec<String> {
        let mut sets: Vec<String> = calls_of(run, "notify")
            .iter()
            .map(|c| c[0].as_str().unwrap().to_string())
            .collect();
        sets.sort();
        sets
    };
    let mut every: Vec<String> = set_of.values().cloned().collect();
    every.sort();
    assert_eq!(notified(&runs[0]), every);
    every.push("com.example.it.gone".into());
    every.sort();
    assert_eq!(notified(&runs[1]), every);
    // The listed enrollments (comments and blank lines skipped) get their group's set; the
    // device listed for staff now leaves the pilot set an earlier list gave it; the groups
    // without a list are named on stderr.
    assert_eq!(
        calls_of(&runs[0], "moved"),
        [serde_json::json!(["UDID-STAFF-1", set_of["pilot"]])]
    );
    assert_eq!(
        report["enrollments"],
        serde_json::json!({
            "UDID-PILOT-1": [set_of["pilot"]],
            "UDID-PILOT-2": [set_of["pilot"]],
            "UDID-STAFF-1": [set_of["staff"]],
        })
    );
    let stderr = runs[0]["stderr"].as_str().unwrap();
    assert!(stderr.contains("engineering.txt"), "{stderr}");
    // An enrollment listed for two groups stops the upload before anything is sent.
    assert_stopped(&runs[2], "listed for more than one group: UDID-PILOT-1");
    assert_eq!(runs[2]["calls"], Value::Array(vec![]));
    // So does an ID that is not an enrollment ID (it would end up in a URL path).
    assert_stopped(&runs[3], "'UDID/../x' is not an enrollment ID");
    assert_eq!(runs[3]["calls"], Value::Array(vec![]));
}

/// A stand-in of Jamf Pro: the OAuth client-credentials token endpoint and the Classic API's
/// configuration profiles (`GET`/`PUT …/name/{name}`, `POST …/id/0`) for computers and mobile
/// devices, with the bearer token. Each XML body must have the root element of its endpoint,
/// the profile's name, a scope group, and payloads that are a whole plist.
const JAMF_STUB: &str = r#"
import plistlib
import xml.etree.ElementTree as ET

layout, modes = sys.argv[1], json.loads(sys.argv[2])
SECRETS.extend(["SECRET s&=x", "TOKEN"])
state = {"mode": "ok"}
ROOTS = {"osxconfigurationprofiles": "os_x_configuration_profile",
         "mobiledeviceconfigurationprofiles": "configuration_profile"}
LISTS = {"osxconfigurationprofiles": "os_x_configuration_profiles",
         "mobiledeviceconfigurationprofiles": "configuration_profiles"}
BSIC = "Generated by bsic for com.example.it (content 0); edit the policies, not this profile"
# (endpoint, name) -> (id, description, XML). A look-alike made by hand, and a profile an
# earlier build made for a group no longer built.
stored = {
    ("osxconfigurationprofiles", "Software updates: pilot (retired)"): (900, "by hand", b""),
    ("mobiledeviceconfigurationprofiles", "Software updates: gone"): (901, BSIC, b""),
}

class Jamf(Stub):
    def do_POST(self):
        body = self.body()
        if self.path == "/api/oauth/token":
            return self.oauth_token(body)
        self.profile(body)

    def do_PUT(self):
        self.profile(self.body())

    def do_GET(self):
        endpoint, by, key = self.route()
        if endpoint is None:
            return self.fail("unknown endpoint")
        if state["mode"] == "broken":
            return self.reply(500, b"<html>Internal Server Error</html>", "text/html")
        if self.headers.get("Accept") == "application/json":
            if by is None:
                listed = [{"id": i, "name": n} for (e, n), (i, _, _) in stored.items()
                          if e == endpoint]
                return self.reply(200, {LISTS[endpoint]: listed})
            for (e, n), (i, description, _) in stored.items():
                if e == endpoint and ((by == "id" and str(i) == key) or (by == "name" and n == key)):
                    general = {"id": i, "name": n, "description": description}
                    return self.reply(200, {ROOTS[endpoint]: {"general": general}})
            if by == "name":
                return self.reply(404, b"<html>The server has not found anything matching the "
                                  b"request URI</html>", "text/html")
            return self.fail("JSON of an unknown profile")
        if by == "name" and (endpoint, key) in stored:
            return self.reply(200, stored[(endpoint, key)][2], "application/xml")
        if by == "name":
            return self.reply(404, b"<html>The server has not found anything matching the "
                              b"request URI</html>", "text/html")
        self.fail("unknown endpoint")

    def do_DELETE(self):
        endpoint, by, key = self.route()
        for (e, n), (i, _, _) in list(stored.items()):
            if e == endpoint and by == "id" and str(i) == key:
                del stored[(e, n)]
                calls.append(["delete", endpoint, n])
                return self.reply(200, b"<deleted/>", "application/xml")
        self.fail("delete of an unknown profile")

    def route(self):
        parts = urlparse(self.path).path.split("/")
        if self.headers.get("Authorization") != "Bearer TOKEN":
            self.fail("no bearer token")
            return None, None, None
        if len(parts) < 3 or parts[1] != "JSSResource" or parts[2] not in ROOTS:
            return None, None, None
        if len(parts) == 3:
            return parts[2], None, None
        if len(parts) != 5:
            return None, None, None
        return parts[2], parts[3], unquote(parts[4])

    def profile(self, body):
        endpoint, by, key = self.route()
        if endpoint is None:
            return self.fail("unknown endpoint")
        if self.headers.get("Content-Type") != "application/xml":
            return self.fail("Content-Type is not application/xml")
        root = ET.fromstring(body)
        if root.tag != ROOTS[endpoint]:
            return self.fail(f"root <{root.tag}> on {endpoint}")
        name = root.findtext("general/name")
        description = root.findtext("general/description")
        if root.findtext("general/redeploy_on_update") != "All":
            return self.fail("an update would not reach the devices that have the profile")
        payloads = plistlib.loads(root.findtext("general/payloads").encode())
        if not payloads.get("PayloadContent"):
            return self.fail("payloads is not a whole profile")
        groups = [g.text for g in root.iter("name") if g is not root.find("general/name")]
        if len(groups) != 1:
            return self.fail(f"scope groups {groups}")
        if self.command == "POST" and (by, key) == ("id", "0"):
            if (endpoint, name) in stored:
                return self.fail(f"{name} created twice")
            stored[(endpoint, name)] = (1000 + len(stored), description, body)
            calls.append(["create", endpoint, name, groups[0]])
            return self.reply(201, f"<{root.tag}><id>{len(stored)}</id></{root.tag}>".encode(),
                              "application/xml")
        if self.command == "PUT" and by == "name" and key == name and (endpoint, name) in stored:
            stored[(endpoint, name)] = (stored[(endpoint, name)][0], description, body)
            calls.append(["update", endpoint, name, groups[0]])
            return self.reply(201, f"<{root.tag}><id>1</id></{root.tag}>".encode(),
                              "application/xml")
        self.fail(f"{self.command} of {name!r} at {by}/{key}")

base = serve(Jamf)
results = []
for mode in modes:
    env = environment("JAMF_")
    env.pop("BSIC_PRUNE", None)
    env.update({"JAMF_URL": base, "JAMF_CLIENT_ID": "CLIENT",
                "JAMF_CLIENT_SECRET": "SECRET s&=x"})
    if mode == "prune":
        env["BSIC_PRUNE"] = "1"
    # A token with a line break would end its line in curl's config file and smuggle in an
    # option of its own (here: upload a local file).
    TOKEN["value"] = "abc\nupload-file = /etc/hostname" if mode == "hostile-token" else "TOKEN"
    if mode in ("touch", "squatter"):
        # An earlier build's content, or a same-named profile someone made by hand.
        key = min(k for k, v in stored.items() if v[0] >= 1000)
        description = BSIC.replace("content 0", "content old") if mode == "touch" else "by hand"
        stored[key] = (stored[key][0], description, stored[key][2])
    state["mode"] = mode
    results.append(upload(layout, env, ("create", "update", "delete")))
print(json.dumps({"runs": results, "errors": errors}))
"#;

#[test]
fn jamf_upload_creates_then_updates_every_profile_by_name() {
    let (_project, layout) = build("jamf");
    let run = crate::util::python(
        &format!("{PRELUDE}{JAMF_STUB}"),
        &[
            layout.as_os_str(),
            r#"["ok", "ok", "touch", "prune", "broken", "hostile-token", "squatter"]"#.as_ref(),
        ],
    );
    let report: Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("{e}\n{}", run.describe()));
    assert_eq!(report["errors"], Value::Array(vec![]), "{}", run.describe());
    let bodies = fs::read_dir(layout.join("classic"))
        .unwrap()
        .map(|g| fs::read_dir(g.unwrap().path()).unwrap().count())
        .sum::<usize>();
    let runs = report["runs"].as_array().unwrap();
    for run in &runs[..4] {
        assert_eq!(run["code"], 0, "{}", run["stderr"]);
    }
    // First run: each profile is created, scoped to the group named in its own name
    // ("…: <group>").
    let created = calls_of(&runs[0], "create");
    assert_eq!(created.len(), bodies, "{created:?}");
    assert!(
        created.iter().all(|c| c[1]
            .as_str()
            .unwrap()
            .ends_with(&format!(": {}", c[2].as_str().unwrap()))),
        "{created:?}"
    );
    // Second run: nothing changed, so nothing is sent (an update goes to every device that
    // has the profile). Third run: the one profile whose description (its content) differs
    // in Jamf Pro is updated.
    assert_eq!(runs[1]["calls"], Value::Array(vec![]));
    assert_eq!(
        calls_of(&runs[2], "update").len(),
        1,
        "{}",
        runs[2]["calls"]
    );
    assert!(calls_of(&runs[2], "create").is_empty());
    // Only with BSIC_PRUNE=1 are profiles deleted: the one this project made for a group it
    // no longer builds, never the look-alike made by hand, nor the unchanged built ones.
    assert!(
        runs[..3]
            .iter()
            .all(|run| calls_of(run, "delete").is_empty())
    );
    assert_eq!(
        runs[3]["calls"],
        serde_json::json!([[
            "delete",
            "mobiledeviceconfigurationprofiles",
            "Software updates: gone"
        ]])
    );
    // A lookup Jamf Pro cannot answer stops the upload: nothing is created twice. A token
    // that would inject a curl option is refused before any request uses it.
    assert_stopped(&runs[4], "answered HTTP 500");
    assert_stopped(&runs[5], "holds a line break");
    assert_eq!(runs[4]["calls"], Value::Array(vec![]));
    assert_eq!(runs[5]["calls"], Value::Array(vec![]));
    // A same-named profile this project did not make is never overwritten.
    assert_stopped(&runs[6], "that this project did not make");
    assert!(calls_of(&runs[6], "update").is_empty());
}

/// Run without its settings, each script stops at once and names the first one missing.
#[test]
fn upload_scripts_name_a_missing_setting() {
    let project = Project::reference();
    let out = project.join("dist");
    project
        .bsic()
        .args([
            "build",
            "-t",
            "kmfddm",
            "-t",
            "jamf",
            "-t",
            "workspace-one",
            "-t",
            "intune",
            "--out",
        ])
        .arg(&out)
        .run()
        .assert_code(0);
    for (script, first) in [
        ("kmfddm/upload.sh", "set KMFDDM_URL"),
        ("jamf/upload.sh", "set JAMF_URL"),
        ("workspace-one/upload.sh", "set WS1_API_URL"),
        ("intune/upload.sh", "set INTUNE_TENANT_ID"),
    ] {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let run = std::process::Command::new("sh")
            .arg(out.join(script))
            .env_clear()
            .env("PATH", path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success(), "{script}");
        assert!(
            stderr.contains(first) || stderr.contains("needs jq"),
            "{script}: {stderr}"
        );
    }
}

/// A stand-in of Microsoft Graph (v1.0) and of the Microsoft identity platform's token
/// endpoint, written from Microsoft's documentation:
///
/// - "Microsoft identity platform and the OAuth 2.0 client credentials flow"
///   (learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow):
///   `POST /{tenant}/oauth2/v2.0/token` with `client_id`, `client_secret`,
///   `scope=https://graph.microsoft.com/.default` and `grant_type=client_credentials`;
/// - "List groups" (learn.microsoft.com/graph/api/group-list): `GET /groups` with
///   `$filter=displayName eq '…'` (a quote doubled inside), answering `{"value": [...]}`;
/// - "List deviceConfigurations", "Create macOSCustomConfiguration", "Create
///   iosCustomConfiguration", "Update …", "Delete …" and the `assign` action
///   (learn.microsoft.com/graph/api/intune-deviceconfig-macoscustomconfiguration-create,
///   …-ioscustomconfiguration-create, …-deviceconfiguration-assign): collections paged with
///   `@odata.nextLink` ("Paging Microsoft Graph data in your app",
///   learn.microsoft.com/graph/paging), a create answered 201 with the object and its `id`,
///   `payload` base64, an update answered 200, a delete 204, `assign` taking
///   `{"assignments": [{"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget",
///   "groupId": …}}]}`.
///
/// Every Graph call must carry the bearer token. It starts with a profile made by hand whose
/// name contains a built one's, and one an earlier build made for a group no longer built. It
/// runs `upload.sh` once per run given and prints what happened as JSON.
const GRAPH_STUB: &str = r##"
layout, groups_json, runs_json = sys.argv[1:4]
SECRETS.extend(["SECRET s&=x", "TOKEN"])
groups = {name: f"group-{name}" for name in json.loads(groups_json)}
BSIC = "Generated by bsic for com.example.it (content 0); edit the policies, not this profile"
TYPES = ("#microsoft.graph.macOSCustomConfiguration", "#microsoft.graph.iosCustomConfiguration")
PAGE = 2   # a small page, so the script must follow @odata.nextLink
configs = {
    "hand": {"@odata.type": TYPES[0], "id": "hand",
             "displayName": "Software updates: pilot (retired)", "description": "by hand"},
    "gone": {"@odata.type": TYPES[1], "id": "gone",
             "displayName": "Software updates: gone", "description": BSIC},
}
state = {"secret": "SECRET s&=x", "next_host": None}

class Graph(Stub):
    def authorized(self):
        if self.headers.get("Authorization") != "Bearer TOKEN":
            self.fail(f"Authorization {self.headers.get('Authorization')!r}")
            return False
        if self.headers.get("Accept") != "application/json":
            self.fail(f"Accept {self.headers.get('Accept')!r}")
            return False
        return True

    def json_body(self):
        if self.headers.get("Content-Type") != "application/json":
            self.fail("Content-Type is not application/json")
            return None
        return json.loads(self.body())

    def do_GET(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if not self.authorized():
            return
        if url.path == "/v1.0/groups":
            wanted = query.get("$filter", "")
            prefix, suffix = "displayName eq '", "'"
            if not (wanted.startswith(prefix) and wanted.endswith(suffix)):
                return self.fail(f"$filter {wanted!r}")
            name = wanted[len(prefix):-len(suffix)].replace("''", "'")
            calls.append(["group", name])
            found = [{"id": i, "displayName": n} for n, i in groups.items() if n == name]
            if name in state.get("duplicates", ()):
                found.append({"id": "group-twin", "displayName": name})
            return self.reply(200, {"value": found})
        if url.path == "/v1.0/deviceManagement/deviceConfigurations":
            skip = int(query.get("$skiptoken", "0"))
            items = sorted(configs.values(), key=lambda c: c["id"])
            page = {"value": items[skip:skip + PAGE]}
            if skip + PAGE < len(items):
                base = state["next_host"] or f"http://{self.headers['Host']}"
                page["@odata.nextLink"] = (f"{base}/v1.0/deviceManagement/deviceConfigurations"
                                           f"?$select=id,displayName,description&$skiptoken={skip + PAGE}")
            return self.reply(200, page)
        self.fail("unknown endpoint")

    def do_POST(self):
        url = urlparse(self.path)
        body = self.body()
        if url.path == "/contoso.example/oauth2/v2.0/token":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            expected = {"grant_type": "client_credentials", "client_id": "CLIENT",
                        "scope": f"http://{self.headers['Host']}/.default"}
            if {k: v for k, v in form.items() if k != "client_secret"} != expected:
                return self.fail(f"token form {form}")
            if form.get("client_secret") != state["secret"]:
                return self.reply(401, {"error": "invalid_client"})
            return self.reply(200, {"access_token": "TOKEN", "token_type": "Bearer",
                                    "expires_in": 3599})
        if not self.authorized():
            return
        if self.headers.get("Content-Type") != "application/json":
            return self.fail("Content-Type is not application/json")
        document = json.loads(body)
        parts = url.path.split("/")
        if url.path == "/v1.0/deviceManagement/deviceConfigurations":
            problem = check_configuration(document)
            if problem:
                return self.fail(problem)
            key = (document["@odata.type"], document["displayName"])
            if any((c["@odata.type"], c["displayName"]) == key for c in configs.values()):
                return self.fail(f"{key} created twice")
            new = dict(document, id=f"cfg-{len(configs)}")
            configs[new["id"]] = new
            calls.append(["create", document["@odata.type"], document["displayName"]])
            return self.reply(201, new)
        if len(parts) == 6 and parts[:4] == ["", "v1.0", "deviceManagement", "deviceConfigurations"] \
                and parts[5] == "assign":
            config = configs.get(parts[4])
            if config is None:
                return self.reply(404, {"error": {"code": "ResourceNotFound"}})
            assignments = document.get("assignments")
            if not isinstance(assignments, list) or len(assignments) != 1:
                return self.fail(f"assignments {assignments!r}")
            target = assignments[0].get("target", {})
            if target.get("@odata.type") != "#microsoft.graph.groupAssignmentTarget" \
                    or target.get("groupId") not in groups.values():
                return self.fail(f"assignment target {target!r}")
            group = [n for n, i in groups.items() if i == target["groupId"]][0]
            calls.append(["assign", config["displayName"], group])
            return self.reply(200, {"value": assignments})
        self.fail("unknown endpoint")

    def do_PATCH(self):
        parts = urlparse(self.path).path.split("/")
        if not self.authorized():
            return
        if len(parts) != 5 or parts[:4] != ["", "v1.0", "deviceManagement", "deviceConfigurations"]:
            return self.fail("unknown endpoint")
        if self.headers.get("Content-Type") != "application/json":
            return self.fail("Content-Type is not application/json")
        document = json.loads(self.body())
        config = configs.get(parts[4])
        problem = check_configuration(document)
        if config is None or problem or document["@odata.type"] != config["@odata.type"]:
            return self.fail(f"update of {parts[4]}: {problem}")
        config.update(document)
        calls.append(["update", config["displayName"]])
        self.reply(200, config)

    def do_DELETE(self):
        parts = urlparse(self.path).path.split("/")
        if not self.authorized():
            return
        config = configs.pop(parts[-1], None) if len(parts) == 5 else None
        if config is None:
            return self.fail("delete of an unknown configuration")
        calls.append(["delete", config["displayName"]])
        self.reply(204)

def check_configuration(document):
    """A custom configuration as the Create macOS/iosCustomConfiguration pages give it."""
    if document.get("@odata.type") not in TYPES:
        return f"@odata.type {document.get('@odata.type')!r}"
    for key in ("displayName", "description", "payloadName", "payloadFileName", "payload"):
        if not isinstance(document.get(key), str) or not document[key]:
            return f"no {key}"
    profile = plistlib.loads(base64.b64decode(document["payload"], validate=True))
    if profile.get("PayloadType") != "Configuration" or not profile.get("PayloadContent"):
        return "the payload is not a configuration profile"
    return None

base = serve(Graph)
results = []
for run in json.loads(runs_json):
    env = environment("INTUNE_")
    env.update({"INTUNE_TENANT_ID": "contoso.example", "INTUNE_CLIENT_ID": "CLIENT",
                "INTUNE_CLIENT_SECRET": run.get("secret", "SECRET s&=x"),
                "GRAPH_URL": base, "LOGIN_URL": base})
    if run.get("prune"):
        env["BSIC_PRUNE"] = "1"
    state["duplicates"] = run.get("duplicate_groups", [])
    state["next_host"] = "http://127.0.0.2:9" if run.get("foreign_next") else None
    dropped = {n: groups.pop(n) for n in run.get("drop_groups", [])}
    built = sorted(c for c in configs if c.startswith("cfg-"))
    if run.get("touch") or run.get("squatter"):
        configs[built[0]]["description"] = \
            BSIC.replace("content 0", "content old") if run.get("touch") else "by hand"
    results.append(upload(layout, env, ("create", "update", "delete", "assign")))
    groups.update(dropped)
    if run.get("squatter"):
        configs[built[0]]["description"] = BSIC
print(json.dumps({"runs": results, "errors": errors}))
"##;

#[test]
fn intune_upload_creates_updates_and_assigns_every_profile_through_graph() {
    if crate::util::which("jq").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "no jq on PATH under CI (.ci/run installs it)"
        );
        eprintln!("skipped: intune/upload.sh needs jq");
        return;
    }
    let (_project, layout) = build("intune");
    // What the script must upload: one body per profile and Intune platform.
    let mut bodies = Vec::new();
    for group in fs::read_dir(layout.join("graph")).unwrap() {
        let group = group.unwrap().path();
        for file in fs::read_dir(&group).unwrap() {
            let body: Value =
                serde_json::from_slice(&fs::read(file.unwrap().path()).unwrap()).unwrap();
            bodies.push((
                body["@odata.type"].as_str().unwrap().to_string(),
                body["displayName"].as_str().unwrap().to_string(),
                group.file_name().unwrap().to_string_lossy().into_owned(),
            ));
        }
    }
    bodies.sort();
    assert!(bodies.len() >= 4, "{bodies:?}");
    let mut groups: Vec<&str> = bodies.iter().map(|b| b.2.as_str()).collect();
    groups.sort_unstable();
    groups.dedup();
    let runs = r#"[{}, {}, {"touch": true}, {"prune": true}, {"drop_groups": ["pilot"]},
        {"duplicate_groups": ["staff"]}, {"squatter": true}, {"foreign_next": true},
        {"secret": "wrong"}]"#;
    let groups_json = serde_json::to_string(&groups).unwrap();
    let run = crate::util::python(
        &format!("{PRELUDE}{GRAPH_STUB}"),
        &[layout.as_os_str(), groups_json.as_ref(), runs.as_ref()],
    );
    let report: Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("{e}\n{}", run.describe()));
    assert_eq!(report["errors"], Value::Array(vec![]), "{}", run.describe());
    let runs = report["runs"].as_array().unwrap();
    for run in &runs[..4] {
        assert_eq!(run["code"], 0, "{}", run["stderr"]);
    }
    let sorted = |run: &Value, kind: &str| -> Vec<Value> {
        let mut found = calls_of(run, kind);
        found.sort_by_key(ToString::to_string);
        found
    };
    // First run: every body is created, with its type and name, and assigned to the Entra ID
    // group of its bsic group.
    let created: Vec<Value> = bodies
        .iter()
        .map(|(kind, name, _)| serde_json::json!([kind, name]))
        .collect();
    let mut expected_created = created.clone();
    expected_created.sort_by_key(ToString::to_string);
    assert_eq!(sorted(&runs[0], "create"), expected_created);
    let mut assigned: Vec<Value> = bodies
        .iter()
        .map(|(_, name, group)| serde_json::json!([name, group]))
        .collect();
    assigned.sort_by_key(ToString::to_string);
    assert_eq!(sorted(&runs[0], "assign"), assigned);
    // Second run: nothing changed, so nothing is sent again; the assignments are set again
    // (they are what the policies say). Third run: the one profile whose content differs in
    // Intune is updated.
    assert!(calls_of(&runs[1], "create").is_empty() && calls_of(&runs[1], "update").is_empty());
    assert_eq!(sorted(&runs[1], "assign"), assigned);
    assert_eq!(
        calls_of(&runs[2], "update").len(),
        1,
        "{}",
        runs[2]["calls"]
    );
    assert!(calls_of(&runs[2], "create").is_empty());
    // Only with BSIC_PRUNE=1 are profiles deleted: the one this project made for a group it
    // no longer builds, never the look-alike made by hand.
    assert!(
        runs[..3]
            .iter()
            .all(|run| calls_of(run, "delete").is_empty())
    );
    assert_eq!(
        calls_of(&runs[3], "delete"),
        [serde_json::json!(["Software updates: gone"])]
    );
    // Runs that stop, saying why, before creating anything: a group missing in Entra ID, two
    // groups of one name, a same-named profile this project did not make, a next page on
    // another host (which would get the token), and a secret the token endpoint refuses.
    for (run, message) in runs[4..].iter().zip([
        "no Entra ID group is named 'pilot'",
        "more than one Entra ID group is named 'staff'",
        "that this project did not make",
        "outside GRAPH_URL",
        "401",
    ]) {
        assert_stopped(run, message);
        assert!(calls_of(run, "create").is_empty(), "{}", run["stderr"]);
        assert!(calls_of(run, "update").is_empty(), "{}", run["stderr"]);
    }
}
