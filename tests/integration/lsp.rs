//! `bsic lsp` end to end: a tiny LSP client of our own (Content-Length framing over the
//! server's stdin/stdout, serde_json bodies) drives a whole editor session against the real
//! binary: diagnostics with did-you-mean at the exact range, the quick fix, hovers, completion,
//! go to definition, formatting, bad input, and a clean shutdown. Then a real editor's client:
//! headless Neovim (`nvim_lsp.lua`) gets the same diagnostics.

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

    /// Writes bytes as they are, framing included.
    fn write(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).unwrap();
        self.stdin.flush().unwrap();
    }

    /// The next error response with a `null` id: the answer to a frame it could not read.
    fn parse_error(&self) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self.next(deadline);
            if message["id"].is_null() && message.get("error").is_some() {
                return message;
            }
        }
    }

    /// Waits for the server to exit and returns its status.
    fn exit_status(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
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

/// The byte offset of an LSP position (zero-based line, UTF-16 column), computed
/// independently of the server.
fn offset(text: &str, position: &Value) -> usize {
    let line = position["line"].as_u64().unwrap() as usize;
    let character = position["character"].as_u64().unwrap() as usize;
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let mut units = 0;
    let mut offset = start;
    for c in text[start..].chars() {
        if units >= character || c == '\n' {
            break;
        }
        units += c.len_utf16();
        offset += c.len_utf8();
    }
    offset
}

/// `text` with LSP text edits applied, as an editor would.
fn apply(text: &str, edits: &[Value]) -> String {
    let mut edits: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| {
            (
                offset(text, &e["range"]["start"]),
                offset(text, &e["range"]["end"]),
                e["newText"].as_str().unwrap(),
            )
        })
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut text = text.to_string();
    for (start, end, new) in edits {
        text.replace_range(start..end, new);
    }
    text
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
        "documentFormattingProvider",
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
    // ... and the legacy Restrictions key it also sets, with Apple's current facts.
    assert!(
        text.contains("`allowRapidSecurityResponseRemoval`")
            && text.contains("deprecated 26.0, removed 27.0")
            && text.contains("RapidSecurityResponse.EnableRollback` instead"),
        "{text}"
    );

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

    // Formatting: a badly indented, unsaved buffer (ending in `😀` without a newline, so the
    // edit's end counts UTF-16 units) becomes exactly what `bsic fmt` writes, in one edit.
    let messy: String = good
        .lines()
        .map(|line| {
            let depth = (line.len() - line.trim_start().len()) / 4;
            format!("{}{}  \n", "\t ".repeat(depth * 3 % 5), line.trim_start())
        })
        .collect::<String>()
        .replacen("offer #true", "offer   #true ;", 1)
        + "\n\n\n// the end 😀";
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": rings, "version": 4},
               "contentChanges": [{"text": messy}]}),
    );
    let formatting = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": rings},
               "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let edits = formatting["result"].as_array().expect("a list of edits");
    assert_eq!(edits.len(), 1, "{formatting}");
    assert_eq!(
        edits[0]["range"],
        lsp_range(&messy, 0, messy.len()),
        "{formatting}"
    );
    let formatted = apply(&messy, edits);
    let scratch = Project::empty().file("messy.kdl", &messy);
    scratch
        .bsic()
        .args(["fmt", "messy.kdl"])
        .run()
        .assert_code(0);
    let by_fmt = std::fs::read_to_string(scratch.join("messy.kdl")).unwrap();
    assert_ne!(by_fmt, messy);
    assert_eq!(formatted, by_fmt);
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": rings, "version": 5},
               "contentChanges": [{"text": formatted}]}),
    );
    let again = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": rings},
               "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    assert_eq!(again["result"], json!([]), "{again}");

    // Bad input: garbage in the buffer gives diagnostics, no formatting, unknown methods
    // MethodNotFound, and the server keeps serving.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": rings, "version": 6},
               "contentChanges": [{"text": "policy \"x\" { \u{0}}}}{{\"é😀 /* "}]}),
    );
    let diags = client.diagnostics(&rings, |errors| errors > 0);
    assert!(!diags.is_empty());
    let formatting = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": rings},
               "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    assert!(formatting.get("error").is_none(), "{formatting}");
    assert_eq!(formatting["result"], Value::Null, "{formatting}");
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

/// Every kind of broken frame, as a client with a bug (or a fuzzer) would send it. Each is
/// answered with a JSON-RPC error and the server reads on.
fn bad_frames() -> Vec<(&'static str, Vec<u8>, i64)> {
    let not_utf8 = [&b"Content-Length: 4\r\n\r\n"[..], b"\xff\xfe\xfd\xfc"].concat();
    vec![
        ("garbage header", b"garbage\r\n\r\n".to_vec(), -32700),
        (
            "binary header",
            b"\x00\xff: \x01\r\n\r\n{}".to_vec(),
            -32700,
        ),
        ("header line too long", vec![b'x'; 70_000], -32700),
        (
            "negative length",
            b"Content-Length: -5\r\n\r\n{}".to_vec(),
            -32700,
        ),
        (
            "non-numeric length",
            b"Content-Length: lots\r\n\r\n{}".to_vec(),
            -32700,
        ),
        (
            "length past u64",
            b"Content-Length: 99999999999999999999999\r\n\r\n{}".to_vec(),
            -32700,
        ),
        (
            "duplicate length",
            b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{} ".to_vec(),
            -32700,
        ),
        (
            "missing length",
            b"Content-Type: application/vscode-jsonrpc\r\n\r\n{}".to_vec(),
            -32700,
        ),
        ("non-UTF-8 body", not_utf8, -32700),
        (
            "invalid JSON",
            b"Content-Length: 9\r\n\r\n{not json".to_vec(),
            -32700,
        ),
        (
            "JSON that is no message",
            b"Content-Length: 2\r\n\r\n[]".to_vec(),
            -32600,
        ),
    ]
}

#[test]
fn bad_frames_are_answered_and_the_server_keeps_serving() {
    let project = Project::reference();
    let initialize = json!({"processId": null, "rootUri": uri(project.path()), "capabilities": {}});
    for (what, frame, code) in bad_frames() {
        let mut client = Client::start(project.path());
        // Before `initialize`.
        client.write(&frame);
        let error = client.parse_error();
        assert_eq!(error["error"]["code"], code, "{what}: {error}");
        let init = client.request("initialize", initialize.clone());
        assert!(init["result"]["capabilities"].is_object(), "{what}: {init}");
        client.notify("initialized", json!({}));
        // While serving.
        client.write(&frame);
        let error = client.parse_error();
        assert_eq!(error["error"]["code"], code, "{what}: {error}");
        let symbols = client.request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri(&project.join("policies/groups.kdl"))}}),
        );
        assert!(symbols.get("error").is_none(), "{what}: {symbols}");
        // Between `shutdown` and `exit`.
        let shutdown = client.request("shutdown", Value::Null);
        assert!(shutdown.get("error").is_none(), "{what}: {shutdown}");
        client.write(&frame);
        client.parse_error();
        client.notify("exit", Value::Null);
        let status = client.exit_status();
        assert!(status.success(), "{what}: exit status {status}");
    }
}

/// A bare `\n` instead of `\r\n` after the headers is read as a frame like any other.
#[test]
fn headers_ending_in_bare_line_feeds_are_read() {
    let project = Project::reference();
    let mut client = Client::start(project.path());
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                      "params": {"processId": null, "capabilities": {}}})
    .to_string();
    client.write(format!("Content-Length: {}\n\n{body}", body.len()).as_bytes());
    let deadline = Instant::now() + TIMEOUT;
    let init = client.next(deadline);
    assert!(init["result"]["capabilities"].is_object(), "{init}");
    drop(client.stdin);
    assert!(client.child.wait().unwrap().success());
}

/// A frame larger than the limit is answered at once, its body is read and dropped, and the
/// next frame is served; a length no client could send ends nothing but the input.
#[test]
fn frames_over_the_size_limit_are_refused_and_skipped() {
    let project = Project::reference();
    let mut client = Client::start(project.path());
    let over = bsic::lsp::MAX_MESSAGE_BYTES + 1;
    client.write(format!("Content-Length: {over}\r\n\r\n").as_bytes());
    let error = client.parse_error();
    assert_eq!(error["error"]["code"], -32700, "{error}");
    let chunk = vec![b' '; 1 << 20];
    let mut left = over;
    while left > 0 {
        let n = left.min(chunk.len() as u64);
        client.write(&chunk[..n as usize]);
        left -= n;
    }
    let init = client.request("initialize", json!({"processId": null, "capabilities": {}}));
    assert!(init["result"]["capabilities"].is_object(), "{init}");

    // The acceptance check: the process neither aborts nor hangs.
    let mut client = Client::start(project.path());
    client.write(b"Content-Length: 99999999999999999\r\n\r\n{}");
    let error = client.parse_error();
    assert_eq!(error["error"]["code"], -32700, "{error}");
    drop(client.stdin);
    let status = client.child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
}

#[test]
fn enforce_completes_releases_from_the_pinned_catalog() {
    let project = Project::base();
    let fixture = crate::util::repo("tests/fixtures/catalog/pmv.json");
    let import = project
        .bsic()
        .args(["catalog", "import"])
        .arg(&fixture)
        .run();
    import.assert_code(0);
    let pin = import
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("catalog "))
        .expect("the pin line")
        .trim()
        .to_string();
    let config = std::fs::read_to_string(project.join("bsic.kdl")).unwrap();
    project.write("bsic.kdl", format!("{config}{pin}\n"));
    let text = "policy \"p\" {\n    applies-to \"pilot\"\n    platforms \"macOS\"\n    \
                enforce version=\"\" build=\"\" by=\"2027-01-15T09:00:00\"\n}\n";
    let path = project.join("policies/enforce.kdl");
    project.write("policies/enforce.kdl", text);
    let doc = uri(&path);

    let mut client = Client::start(project.path());
    client.request(
        "initialize",
        json!({"processId": null, "rootUri": uri(project.path()), "capabilities": {}}),
    );
    client.notify("initialized", json!({}));
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": doc, "languageId": "kdl", "version": 1, "text": text}}),
    );
    let complete = |client: &mut Client, needle: &str| {
        let (line, col) = position(text, needle, 0);
        let at_value = (line, col + needle.len() as u32);
        let response = client.request("textDocument/completion", at(&doc, at_value));
        response["result"].as_array().expect("items").clone()
    };
    let versions = complete(&mut client, "version=\"");
    let labels: Vec<&str> = versions
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert_eq!(labels, ["26.3.1", "26.3", "15.7.4"], "{versions:?}");
    let builds = complete(&mut client, "build=\"");
    let bsi = builds
        .iter()
        .find(|i| i["label"] == "25D771280a")
        .expect("the BSI build");
    assert_eq!(
        bsi["detail"], "26.3.1 (a) — Background Security Improvement",
        "{bsi}"
    );
    assert!(builds.iter().all(|i| i["label"] != "23D8133"), "{builds:?}");

    let shutdown = client.request("shutdown", Value::Null);
    assert!(shutdown.get("error").is_none(), "{shutdown}");
    client.notify("exit", Value::Null);
}

/// The LSP range of a byte range, computed independently of the server: zero-based lines,
/// UTF-16 columns, a byte-order mark on the first line not counted.
fn lsp_range(text: &str, offset: usize, len: usize) -> Value {
    let at = |offset: usize| {
        // A span inside a character (the replacement for a byte that is not UTF-8) starts
        // at that character.
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count();
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[start..]
            .trim_start_matches('\u{feff}')
            .encode_utf16()
            .count();
        json!({"line": line, "character": column})
    };
    json!({"start": at(offset), "end": at(offset + len)})
}

#[test]
fn every_bad_input_case_gets_the_same_diagnostics_through_the_server() {
    let corpus = crate::util::repo("tests/fixtures/bad");
    let mut cases: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 30, "the corpus shrank: {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_stem().unwrap().to_string_lossy().to_string();
        let project = Project::base();
        project.write(
            &format!("policies/{name}.kdl"),
            std::fs::read(case).unwrap(),
        );
        let check = project.bsic().args(["check", "--format", "json"]).run();
        let expected: Vec<(String, String, Value)> = check
            .diagnostics()
            .unwrap()
            .iter()
            .map(|d| {
                let location = &d["location"];
                let file = project.join(location["file"].as_str().unwrap());
                let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).to_string();
                let offset = location["offset"].as_u64().unwrap() as usize;
                let len = location["length"].as_u64().unwrap() as usize;
                (
                    uri(&file),
                    d["code"].as_str().unwrap().to_string(),
                    lsp_range(&text, offset, len),
                )
            })
            .collect();

        // Opening a clean file re-checks the whole project, the case's file read from disk.
        let mut client = Client::start(project.path());
        client.request(
            "initialize",
            json!({"processId": null, "rootUri": uri(project.path()), "capabilities": {}}),
        );
        client.notify("initialized", json!({}));
        let groups = project.join("policies/groups.kdl");
        client.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri(&groups), "languageId": "kdl", "version": 1,
                   "text": std::fs::read_to_string(&groups).unwrap()}}),
        );
        let mut files: Vec<String> = expected.iter().map(|e| e.0.clone()).collect();
        files.push(uri(&groups));
        files.sort();
        files.dedup();
        let mut got = Vec::new();
        let deadline = Instant::now() + TIMEOUT;
        let mut seen = std::collections::BTreeSet::new();
        while seen.len() < files.len() && Instant::now() < deadline {
            let Ok(message) = client
                .messages
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            else {
                break;
            };
            if message["method"] != "textDocument/publishDiagnostics" {
                continue;
            }
            let file = message["params"]["uri"].as_str().unwrap().to_string();
            if files.contains(&file) && seen.insert(file.clone()) {
                for d in message["params"]["diagnostics"].as_array().unwrap() {
                    let code = d["code"].as_str().unwrap_or("").to_string();
                    got.push((file.clone(), code, d["range"].clone()));
                }
            }
        }
        let _ = client.child.kill();
        let _ = client.child.wait();
        let mut want = expected.clone();
        want.sort_by_key(|e| format!("{e:?}"));
        want.dedup();
        got.sort_by_key(|e| format!("{e:?}"));
        got.dedup();
        if want != got {
            failures.push(format!("{name}:\n  check: {want:?}\n  lsp:   {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The same session with a real editor's client: headless Neovim (0.7, Debian 12's, or
/// later) opens a policy with a misspelled knob, its LSP client starts `bsic lsp` and stores
/// the diagnostic at the range `bsic check` reports, with the did-you-mean; *Format Document*
/// gives what `bsic fmt` writes, and the server exits 0 on the client's shutdown. The editor
/// side is `nvim_lsp.lua`, the setup docs/editors.md describes for Neovim 0.7.
#[test]
fn neovim_receives_the_diagnostics() {
    // Debian's `neovim`, installed by `.ci/run`.
    let Some(nvim) = crate::util::which("nvim") else {
        // CI must run it: `.ci/run` installs the package, so a missing nvim there is a bug.
        assert!(
            std::env::var_os("CI").is_none(),
            "no nvim on PATH under CI (.ci/run installs Debian's `neovim`)"
        );
        eprintln!("skipped: no nvim on PATH (.ci/run installs Debian's package)");
        return;
    };
    // Indented by two (so formatting has work to do), and `é` before the misspelled name on
    // its line: Neovim's byte columns come from the server's UTF-16 ones.
    let policy = "policy \"fast\" {\n  applies-to \"pilot\"\n  background-security {\n      \
                  /* é */ automatic-instal \"always-on\"\n  }\n}\n";
    let project = Project::base().file("policies/fast.kdl", policy);
    let root = project.path().canonicalize().unwrap();
    let file = root.join("policies/fast.kdl");

    let check = project.bsic().args(["check", "--format", "json"]).run();
    check.assert_code(1);
    let expected = check.diagnostics().unwrap();
    assert_eq!(expected.len(), 1, "{}", check.describe());
    let location = &expected[0]["location"];
    assert_eq!(location["file"], "policies/fast.kdl");
    let offset = location["offset"].as_u64().unwrap() as usize;
    let length = location["length"].as_u64().unwrap() as usize;
    let line = policy[..offset].matches('\n').count();
    let col = offset - policy[..offset].rfind('\n').map_or(0, |i| i + 1);
    assert_eq!(&policy[offset..offset + length], "automatic-instal");

    // Neovim sees no user configuration: its home and XDG directories are empty temp dirs.
    let home = tempfile::Builder::new()
        .prefix("bsic-nvim-")
        .tempdir()
        .unwrap();
    let script = home.path().join("nvim_lsp.lua");
    std::fs::write(&script, include_str!("nvim_lsp.lua")).unwrap();
    let out = home.path().join("result.json");
    let stdout = home.path().join("stdout");
    let stderr = home.path().join("stderr");
    let mut command = Command::new(&nvim);
    command
        .args(["--headless", "--clean", "-u", "NONE", "-i", "NONE", "-n"])
        .args(["-c", "lua dofile(os.getenv('BSIC_NVIM_SCRIPT'))"])
        .current_dir(&root)
        .env("BSIC_NVIM_SCRIPT", &script)
        .env("BSIC_BIN", BSIC)
        .env("BSIC_ROOT", &root)
        .env("BSIC_POLICY", &file)
        .env("BSIC_OUT", &out)
        .env("HOME", home.path())
        .env("NO_COLOR", "1");
    for (var, dir) in [
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_RUNTIME_DIR", "run"),
    ] {
        let dir = home.path().join(dir);
        std::fs::create_dir_all(&dir).unwrap();
        command.env(var, dir);
    }
    for var in [
        "VIMINIT",
        "EXINIT",
        "MYVIMRC",
        "VIM",
        "VIMRUNTIME",
        "NVIM",
        "NVIM_APPNAME",
        "NVIM_LISTEN_ADDRESS",
        "NVIM_LOG_FILE",
        "XDG_CONFIG_DIRS",
        "XDG_DATA_DIRS",
    ] {
        command.env_remove(var);
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("start nvim");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // Everything Neovim said, for failure messages: its output and its logs (the LSP log
    // holds the server's stderr).
    let mut context = format!(
        "nvim {}: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        nvim.display(),
        status.map_or("killed after 60 s".to_string(), |s| s.to_string()),
        std::fs::read_to_string(&stdout).unwrap_or_default(),
        std::fs::read_to_string(&stderr).unwrap_or_default(),
    );
    for entry in walkdir::WalkDir::new(home.path()).into_iter().flatten() {
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_file() && (name == "log" || name.ends_with(".log")) {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            context.push_str(&format!("\n--- {} ---\n{text}", entry.path().display()));
        }
    }
    let result: Value = match std::fs::read_to_string(&out) {
        Ok(text) => serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("result is not JSON ({e}): {text}\n{context}")),
        Err(e) => panic!("nvim wrote no result ({e})\n{context}"),
    };
    let context = format!("result: {result:#}\n{context}");
    assert!(status.is_some_and(|s| s.success()), "{context}");
    assert!(result.get("error").is_none(), "{context}");
    assert_eq!(
        result["timed_out"], false,
        "no diagnostics in 20 s\n{context}"
    );

    // The diagnostic as Neovim stores it: 0-based line, byte columns, at `bsic check`'s range.
    let diagnostics = result["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{context}");
    let d = &diagnostics[0];
    assert_eq!(d["lnum"], line, "{context}");
    assert_eq!(d["col"], col, "{context}");
    assert_eq!(d["end_lnum"], line, "{context}");
    assert_eq!(d["end_col"], col + length, "{context}");
    assert_eq!(d["severity"], 1, "an error\n{context}");
    assert_eq!(d["code"], expected[0]["code"], "{context}");
    assert_eq!(d["source"], "bsic", "{context}");
    let did_you_mean = "did you mean `automatic-install`?";
    assert!(
        d["message"].as_str().unwrap().contains(did_you_mean)
            || d["related"].to_string().contains(did_you_mean),
        "{context}"
    );

    // Format Document: the buffer becomes what `bsic fmt` writes.
    assert!(result.get("formatting_error").is_none(), "{context}");
    let scratch = Project::empty().file("fast.kdl", policy);
    scratch
        .bsic()
        .args(["fmt", "fast.kdl"])
        .run()
        .assert_code(0);
    let by_fmt = std::fs::read_to_string(scratch.join("fast.kdl")).unwrap();
    assert_ne!(by_fmt, policy);
    let lines: Vec<&str> = result["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(lines, by_fmt.lines().collect::<Vec<_>>(), "{context}");

    // The client's shutdown ends the server cleanly.
    assert_eq!(result["exit_code"], 0, "{context}");
}

/// The server ends with `bsic::lsp-protocol` and exit code 2 only when it cannot talk to its
/// editor any more: here its stdout is a full disk.
#[cfg(target_os = "linux")]
#[test]
fn a_stdout_that_cannot_be_written_ends_the_server_with_exit_2() {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}).to_string();
    let session = format!("Content-Length: {}\r\n\r\n{body}", body.len());
    let project = Project::reference();
    project.write("session.txt", &session);
    let output = Command::new(BSIC)
        .arg("lsp")
        .current_dir(project.path())
        .stdin(std::fs::File::open(project.join("session.txt")).unwrap())
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bsic::lsp-protocol"), "{stderr}");
}
