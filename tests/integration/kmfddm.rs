//! The real KMFDDM (`../shared/tools/kmfddm/`), started for a test: on a free loopback port,
//! with fresh file storage and `-dump-status`, so every status report a device sends is
//! appended to `status.jsonl` as sent. Stopped when dropped.
//!
//! Found as `$BSIC_KMFDDM`, then `kmfddm` on `PATH`, then `<repo>/../shared/tools/kmfddm/kmfddm`.
//! Without it a test is skipped with a message; under `CI=true` it fails instead, so the
//! real-server loop cannot silently stop running in CI.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The API key the test servers run with (`-api`), the basic-auth password of user `kmfddm`.
pub(crate) const API_KEY: &str = "bsic-test-key";

/// A running KMFDDM.
pub(crate) struct Kmfddm {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    dir: tempfile::TempDir,
    agent: ureq::Agent,
}

/// The KMFDDM binary, if there is one.
fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("BSIC_KMFDDM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("kmfddm"))
            .find(|candidate| candidate.is_file())
    });
    on_path.or_else(|| {
        let shared = crate::util::repo("../shared/tools/kmfddm/kmfddm");
        shared.is_file().then_some(shared)
    })
}

/// Whether this run is CI's, where a missing server fails the test.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// An HTTP agent that hands back every status as a response (the tests look at 4xx answers).
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

impl Kmfddm {
    /// Starts a fresh server, or `None` (after saying why) when there is no KMFDDM here.
    pub(crate) fn start(test: &str) -> Option<Self> {
        let Some(binary) = binary() else {
            assert!(
                !in_ci(),
                "{test}: no KMFDDM (set BSIC_KMFDDM, put kmfddm on PATH, or provide ../shared/tools/kmfddm/kmfddm): under CI=true the real-server tests must run"
            );
            eprintln!("{test}: skipped, no KMFDDM (set BSIC_KMFDDM to run it)");
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("bsic-kmfddm-")
            .tempdir()
            .unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(dir.path().join("kmfddm.log")).unwrap();
        let child = Command::new(&binary)
            .arg("-api")
            .arg(API_KEY)
            .arg("-listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(["-storage", "filekv", "-storage-dsn"])
            .arg(dir.path().join("db"))
            .arg("-dump-status")
            .arg(dir.path().join("status.jsonl"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{test}: cannot start {}: {e}", binary.display()));
        let server = Kmfddm {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
            agent: agent(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let answered = server
                .agent
                .get(format!("{}/version", server.url))
                .call()
                .is_ok_and(|response| response.status() == 200);
            if answered {
                return Some(server);
            }
            assert!(
                Instant::now() < deadline,
                "{test}: KMFDDM did not answer GET /version within 20 s; its log:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the server logged so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("kmfddm.log")).unwrap_or_default()
    }

    /// The file `-dump-status` appends each status report to.
    pub(crate) fn status_dump(&self) -> PathBuf {
        self.dir.path().join("status.jsonl")
    }

    /// `GET` on the admin API (`/v1/…`): the JSON answer; panics on any other status.
    pub(crate) fn admin(&self, path: &str) -> Value {
        let url = format!(
            "http://kmfddm:{API_KEY}@{}{path}",
            &self.url["http://".len()..]
        );
        let mut response = self.agent.get(&url).call().unwrap();
        let body = response.body_mut().read_to_string().unwrap();
        assert_eq!(response.status(), 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    /// A change on the admin API (`PUT`, `DELETE`) with an optional JSON body: the status.
    pub(crate) fn admin_send(&self, method: &str, path: &str, body: Option<&Value>) -> u16 {
        let url = format!(
            "http://kmfddm:{API_KEY}@{}{path}",
            &self.url["http://".len()..]
        );
        let result = match (method, body) {
            ("PUT", Some(body)) => self
                .agent
                .put(&url)
                .header("Content-Type", "application/json")
                .send(serde_json::to_vec(body).unwrap().as_slice()),
            ("PUT", None) => self.agent.put(&url).send_empty(),
            ("DELETE", None) => self.agent.delete(&url).call(),
            other => panic!("no admin request {other:?}"),
        };
        result
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
            .status()
            .as_u16()
    }

    /// A device-side request as `enrollment`: the status and the body.
    pub(crate) fn device(
        &self,
        method: &str,
        enrollment: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> (u16, String) {
        let url = format!("{}{path}", self.url);
        let result = match (method, body) {
            ("GET", None) => self
                .agent
                .get(&url)
                .header("X-Enrollment-ID", enrollment)
                .call(),
            ("PUT", Some(body)) => self
                .agent
                .put(&url)
                .header("X-Enrollment-ID", enrollment)
                .header("Content-Type", "application/json")
                .send(body),
            other => panic!("no device request {other:?}"),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        (status, response.body_mut().read_to_string().unwrap())
    }

    /// The environment `upload.sh` needs to talk to this server.
    pub(crate) fn upload_env(&self) -> [(&'static str, String); 2] {
        [
            ("KMFDDM_URL", self.url.clone()),
            ("KMFDDM_API_KEY", API_KEY.to_string()),
        ]
    }
}

impl Drop for Kmfddm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
