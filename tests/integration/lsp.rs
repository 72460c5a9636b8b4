//! `bsic lsp` end to end: a tiny LSP client of our own (Content-Length framing over the
//! server's stdin/stdout, serde_json bodies) drives a whole editor session against the real
//! binary: diagnostics with did-you-mean at the exact range, the quick fix, hovers, completion,
//! go to definition, bad input, and a clean shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{BSIC, Project};

const TIMEOUT: Duration = Duration::from_secs(20);

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
}

impl Client {
    fn start(dir: &Path) -> Self {
        let mut child = Command::new(BSIC)
            .arg("lsp")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length:") {
                        length = v.trim().parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.unwrap()];
                reader.read_exact(&mut body).unwrap();
                if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        Self {
            child,
            stdin,
            messages,
            next_id: 0,
        }
    }

    fn send_raw(&mut self, body: &[u8]) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.stdin.write_all(body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn send(&mut self, message: Value) {
        self.send_raw(message.to_string().as_bytes());
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn next(&self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        self.messages
            .recv_timeout(left)
            .expect("the server answered in time")
    }

    /// Sends a request and returns the whole response (result or error).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self.next(deadline);
            if message["id"] == json!(id) && message.get("method").is_none() {
                return message;
            }
        }
    }

    /// The next diagnostics published for `uri` whose error count satisfies `want`.
    fn diagnostics(&self, uri: &str, want: impl Fn(usize) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self.next(deadline);
            if message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
            {
                let list = message["params"]["diagnostics"].as_array().unwrap().clone();
                let errors = list.iter().filter(|d| d["severity"] == 1).count();
                if want(errors) {
                    return list;
                }
            }
        }
    }
}

fn uri(path: &Path) -> String {
    url::Url::from_file_path(path.canonicalize().unwrap())
        .unwrap()
        .to_string()
}

fn position(text: &str, needle: &str, nth: usize) -> (u32, u32) {
    let offset = text.match_indices(needle).nth(nth).unwrap().0;
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .encode_utf16()
        .count();
    (line as u32, column as u32)
}

fn at(uri: &str, (line, character): (u32, u32)) -> Value {
    json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}})
}

#[test]
fn an_editor_session_gets_diagnostics_fixes_hovers_completion_and_definitions() {
    let project = Project::reference();
    let rings_path = project.join("policies/rings.kdl");
    let rings = uri(&rings_path);
    let groups = uri(&project.join("policies/groups.kdl"));
    let good = std::fs::read_to_string(&rings_path).unwrap();
    // `é` before the typo: the range must count UTF-16 units, not bytes.
    let good = good.replacen("Pilot ring:", "Pilot ring (é):", 1);
    let bad = good.replacen("allow-rollback #false", "allow-rollbac #false", 1);

    let mut client = Client::start(project.path());
    let init = client.request(
        "initialize",
        json!({"processId": null, "rootUri": uri(project.path()), "capabilities": {}}),
    );
    let caps = &init["result"]["capabilities"];
    for cap in [
        "hoverProvider",
        "completionProvider",
        "definitionProvider",
        "codeActionProvider",
    ] {
        assert!(!caps[cap].is_null(), "{cap} in {caps}");
    }
    client.notify("initialized", json!({}));

    // A misspelled knob: one error at exactly the misspelled name, with the did-you-mean.
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": rings, "languageId": "kdl", "version": 1, "text": bad}}),
    );
    let diags = client.diagnostics(&rings, |errors| errors > 0);
    let (line, col) = position(&bad, "allow-rollbac #false", 0);
    let typo: Vec<&Value> = diags
        .iter()
        .filter(|d| d["range"]["start"]["line"] == line)
        .collect();
    assert_eq!(typo.len(), 1, "{diags:?}");
    let typo = typo[0].clone();
    assert_eq!(
        typo["range"],
        json!({"start": {"line": line, "character": col},
               "end": {"line": line, "character": col + "allow-rollbac".len() as u32}})
    );
    assert_eq!(typo["code"], "bsic::unknown-node");
    assert_eq!(typo["source"], "bsic");
    assert!(
        typo["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `allow-rollback`?"),
        "{typo}"
    );

    // The quick fix replaces the name; applying it clears the diagnostics.
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": rings}, "range": typo["range"],
               "context": {"diagnostics": [typo]}}),
    );
    let edit = &actions["result"][0]["edit"]["changes"][&rings][0];
    assert_eq!(edit["newText"], "allow-rollback", "{actions}");
    assert_eq!(edit["range"], typo["range"]);
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": rings, "version": 2},
               "contentChanges": [{"range": edit["range"], "text": "allow-rollback"}]}),
    );
    let diags = client.diagnostics(&rings, |errors| errors == 0);
    assert!(diags.iter().all(|d| d["severity"] != 1), "{diags:?}");

    // Hover on a knob: Apple's key, facts and the documentation link.
    let hover = client.request(
        "textDocument/hover",
        at(&rings, position(&good, "allow-rollback", 0)),
    );
    let text = hover["result"]["contents"]["value"].as_str().unwrap_or("");
    assert!(
        text.contains("RapidSecurityResponse.EnableRollback"),
        "{text}"
    );
    assert!(text.contains("developer.apple.com/documentation"), "{text}");
    assert!(text.contains("macOS 15.0+"), "{text}");

    // Hover on a group name: what a device in it gets, and from which policy.
    let (line, col) = position(&good, "\"pilot\"", 0);
    let hover = client.request("textDocument/hover", at(&rings, (line, col + 2)));
    let text = hover["result"]["contents"]["value"].as_str().unwrap_or("");
    assert!(text.contains("RapidSecurityResponse.Enable"), "{text}");
    assert!(text.contains("bsi-fast-lane"), "{text}");

    // Go to definition: the group is defined in another file.
    let definition = client.request("textDocument/definition", at(&rings, (line, col + 2)));
    assert_eq!(definition["result"]["uri"], groups.as_str(), "{definition}");
    assert_eq!(definition["result"]["range"]["start"]["line"], 1);

    // Completion inside a background-security block.
    let (line, _) = position(&good, "background-security {", 0);
    let mut lines: Vec<&str> = good.lines().collect();
    lines.insert(line as usize + 1, "        ");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": rings, "version": 3},
               "contentChanges": [{"text": lines.join("\n")}]}),
    );
    let completion = client.request("textDocument/completion", at(&rings, (line + 1, 8)));
    let labels: Vec<&str> = completion["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    for want in ["automatic-install", "offer", "allow-rollback"] {
        assert!(labels.contains(&want), "{want} in {labels:?}");
    }

    // Bad input: garbage in the buffer gives diagnostics, unknown methods MethodNotFound,
    // and the server keeps serving.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": rings, "version": 4},
               "contentChanges": [{"text": "policy \"x\" { \u{0}}}}{{\"é😀 /* "}]}),
    );
    let diags = client.diagnostics(&rings, |errors| errors > 0);
    assert!(!diags.is_empty());
    client.send_raw(b"{this is not json");
    client.send_raw(br#"{"jsonrpc": "2.0", "id": "x", "params": 1}"#);
    let unknown = client.request("bsic/nothing", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    let hover = client.request("textDocument/hover", at(&rings, (0, 9999)));
    assert!(hover.get("error").is_none(), "{hover}");

    let shutdown = client.request("shutdown", Value::Null);
    assert!(shutdown.get("error").is_none(), "{shutdown}");
    client.notify("exit", Value::Null);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = client.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}
