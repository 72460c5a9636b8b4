//! The upload scripts of the MDM layouts, run for real against a local stand-in of each MDM's
//! HTTP API that checks every request the way that API documents it (headers, auth, paths,
//! bodies), and fails on anything else.

use std::fs;

use serde_json::Value;

use crate::util::{Project, repo};

/// The reference project built with the `workspace-one` layout.
fn build_workspace_one() -> (Project, std::path::PathBuf) {
    let project = Project::reference();
    let out = project.join("dist");
    project
        .bsic()
        .args(["build", "-t", "workspace-one", "--out"])
        .arg(&out)
        .run()
        .assert_code(0);
    (project, out.join("workspace-one"))
}

/// A stand-in of Workspace ONE UEM's REST API: the smart-group search (v1), the profile
/// search, create and update (v2) and the OAuth token endpoint, as Omnissa's UEM SDK calls
/// them. Each create/update body is checked against the v2 request schema in
/// `tests/fixtures/workspace-one/` and its Custom Settings are read back with plistlib. It runs
/// `upload.sh` with the arguments' environment and prints what happened as JSON.
const UEM_STUB: &str = r#"
import base64, json, os, plistlib, subprocess, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs
import jsonschema

layout, schema_path, groups_json, runs_json = sys.argv[1:5]
validator = jsonschema.Draft202012Validator(json.load(open(schema_path)))
groups = {name: 100 + i for i, name in enumerate(json.loads(groups_json))}
profiles = {}   # (name, platform) -> id
# A profile whose name contains another's: the scripts must match names exactly.
profiles[("Software updates: pilot (retired)", "AppleOsX")] = 900
calls, errors = [], []
PLATFORMS = {"appleosx": "AppleOsX", "apple": "Apple iOS"}
state = {"auth": None}

class Uem(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def fail(self, message):
        errors.append(f"{self.command} {self.path}: {message}")
        self.reply(400, {"message": message})

    def checked(self, version):
        if self.headers.get("aw-tenant-code") != "TENANT":
            return self.fail("aw-tenant-code header missing or wrong")
        if self.headers.get("Authorization") != state["auth"]:
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
            calls.append(["smartgroup", query.get("name")])
            found = [{"Name": n, "SmartGroupID": i} for n, i in groups.items()
                     if query.get("name", "") in n]
            return self.reply(200, {"SmartGroups": found}) if found else self.reply(204)
        if url.path == "/api/mdm/profiles/search":
            if not self.checked(2):
                return
            text = query.get("searchtext", "")
            found = [{"ProfileId": i, "ProfileName": n, "Platform": p}
                     for (n, p), i in profiles.items() if text in n]
            return self.reply(200, {"ProfileList": found, "TotalResults": len(found)}) \
                if found else self.reply(204)
        self.fail("unknown endpoint")

    def do_POST(self):
        url = urlparse(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if url.path == "/connect/token":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            if form != {"grant_type": "client_credentials", "client_id": "CLIENT",
                        "client_secret": "SECRET s&=x"}:
                return self.fail(f"token form {form}")
            return self.reply(200, {"access_token": "TOKEN", "token_type": "Bearer",
                                    "expires_in": 3600})
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
        if groups.get(assigned.get("Name")) != assigned.get("SmartGroupId"):
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
            calls.append(["create", parts[5], general["Name"], assigned["Name"]])
            return self.reply(201, profiles[key])
        if profiles.get(key) != general.get("ProfileId") or general.get("CreateNewVersion") is not True:
            return self.fail(f"update of {key} with ProfileId {general.get('ProfileId')}")
        calls.append(["update", parts[5], general["Name"], assigned["Name"]])
        self.reply(200)

server = ThreadingHTTPServer(("127.0.0.1", 0), Uem)
threading.Thread(target=server.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{server.server_port}"
results = []
for run in json.loads(runs_json):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WS1_")}
    env.update({"WS1_API_URL": base, "WS1_TENANT_CODE": "TENANT", "WS1_OG_ID": "42"})
    if run["auth"] == "oauth":
        env.update({"WS1_TOKEN_URL": base + "/connect/token", "WS1_CLIENT_ID": "CLIENT",
                    "WS1_CLIENT_SECRET": "SECRET s&=x"})
        state["auth"] = "Bearer TOKEN"
    else:
        env.update({"WS1_USERNAME": "admin", "WS1_PASSWORD": "pa:ss word"})
        state["auth"] = "Basic " + base64.b64encode(b"admin:pa:ss word").decode()
    for name in run.get("drop_groups", []):
        groups.pop(name, None)
    calls.clear()
    done = subprocess.run(["sh", os.path.join(layout, "upload.sh")], env=env,
                          capture_output=True, text=True, timeout=120)
    results.append({"code": done.returncode, "stderr": done.stderr,
                    "calls": [c for c in calls if c[0] in ("create", "update")]})
server.shutdown()
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
    let (_project, layout) = build_workspace_one();
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
        g.dedup();
        g
    };
    let schema = repo("tests/fixtures/workspace-one/device-profile-v2.schema.json");
    let runs =
        r#"[{"auth": "oauth"}, {"auth": "basic"}, {"auth": "basic", "drop_groups": ["pilot"]}]"#;
    let groups_json = serde_json::to_string(&groups).unwrap();
    let run = crate::util::python(
        UEM_STUB,
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
    // Second run, with basic auth: the same profiles are found by name and updated.
    assert_eq!(runs[1]["code"], 0, "{}", runs[1]["stderr"]);
    assert_eq!(uploaded(&runs[1], "update"), bodies);
    assert!(uploaded(&runs[1], "create").is_empty());
    // A smart group missing in UEM stops the upload with a message naming it.
    assert_ne!(runs[2]["code"], 0);
    assert!(
        runs[2]["stderr"]
            .as_str()
            .unwrap()
            .contains("no smart group named 'pilot'"),
        "{}",
        runs[2]["stderr"]
    );
}
