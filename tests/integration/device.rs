//! A simulated Apple device speaking the device side of DDM as Apple documents it
//! (`apple/device-management/declarative/protocol/`): `GET /tokens`, `GET /declaration-items`,
//! then `GET /declaration/{type}/{identifier}` for every item, each with `X-Enrollment-ID`;
//! it evaluates each activation's predicate against its own status items, applies the
//! configurations active activations name, merges their keys by Apple's combine rules, and
//! `PUT /status` a `StatusReport` (`protocol/statusreport.yaml`) with its OS, supplemental
//! build, software-update state and `management.declarations` holding the server's tokens.
//!
//! The predicate evaluator knows exactly the subset of Apple's predicate language bsic
//! writes (`compiler/src/emit/predicate.rs`): `@status(ITEM) == 'v'`, `@status(ITEM) IN {'a',
//! 'b'}`, `@status(ITEM) MATCHES '^regex$'`, joined by `AND`/`OR` with parentheses. Anything
//! else panics: a predicate bsic starts writing must be taught here first.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::kmfddm::Kmfddm;

/// A device: its enrollment ID (also its serial number) and the status items it reports.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub(crate) serial: String,
    pub(crate) family: &'static str,
    pub(crate) version: String,
    pub(crate) build: String,
    /// The supplemental (BSI) build and extra version, when it runs one.
    pub(crate) supplemental: Option<(String, String)>,
    pub(crate) install_state: &'static str,
}

/// What a sync left on the device.
#[derive(Debug, Clone, Default)]
pub(crate) struct Held {
    /// `DeclarationsToken` of `GET /tokens`.
    pub(crate) declarations_token: String,
    /// Every declaration fetched, by identifier: (item kind, the declaration JSON).
    pub(crate) declarations: BTreeMap<String, (String, Value)>,
    /// The configurations an active activation names.
    pub(crate) active: BTreeSet<String>,
    /// The activations whose predicate holds (or that have none).
    pub(crate) active_activations: BTreeSet<String>,
}

impl Device {
    pub(crate) fn new(serial: &str, family: &'static str, version: &str, build: &str) -> Self {
        Self {
            serial: serial.into(),
            family,
            version: version.into(),
            build: build.into(),
            supplemental: None,
            install_state: "none",
        }
    }

    /// The value of a status item a predicate asks about.
    fn status_item(&self, item: &str) -> String {
        match item {
            "device.operating-system.family" => self.family.to_string(),
            "device.operating-system.version" => self.version.clone(),
            "device.operating-system.build-version" => self.build.clone(),
            other => panic!("a predicate asks for status item `{other}`, which bsic never used"),
        }
    }

    /// One DDM sync against `server`, as the device does it after a push.
    pub(crate) fn sync(&self, server: &Kmfddm) -> Held {
        let get = |path: &str| -> Value {
            let (status, body) = server.device("GET", &self.serial, path, None);
            assert_eq!(status, 200, "{} GET {path}: {body}", self.serial);
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
        };
        let tokens = get("/tokens");
        let declarations_token = tokens["SyncTokens"]["DeclarationsToken"]
            .as_str()
            .unwrap_or_else(|| panic!("GET /tokens without SyncTokens.DeclarationsToken: {tokens}"))
            .to_string();
        // A device whose stored token equals this one would stop here; the simulated device
        // always fetches (KMFDDM's items carry a DeclarationsToken of their own).
        let items = get("/declaration-items");
        let mut held = Held {
            declarations_token,
            ..Held::default()
        };
        for (kind, path) in [
            ("Activations", "activation"),
            ("Configurations", "configuration"),
            ("Assets", "asset"),
            ("Management", "management"),
        ] {
            for item in items["Declarations"][kind].as_array().into_iter().flatten() {
                let id = item["Identifier"].as_str().unwrap();
                let declaration = get(&format!("/declaration/{path}/{id}"));
                assert_eq!(declaration["Identifier"], id);
                // The server hands out its own token, in the item and the declaration alike.
                assert_eq!(declaration["ServerToken"], item["ServerToken"], "{id}");
                held.declarations
                    .insert(id.to_string(), (kind.to_string(), declaration));
            }
        }
        for (id, (kind, declaration)) in &held.declarations {
            if kind != "Activations" {
                continue;
            }
            assert_eq!(
                declaration["Type"], "com.apple.activation.simple",
                "{id}: an activation type the device does not know"
            );
            let payload = &declaration["Payload"];
            let holds = payload["Predicate"]
                .as_str()
                .is_none_or(|p| Predicate::parse(p).eval(self));
            if !holds {
                continue;
            }
            held.active_activations.insert(id.clone());
            for configuration in payload["StandardConfigurations"].as_array().unwrap() {
                let configuration = configuration.as_str().unwrap();
                assert!(
                    held.declarations.contains_key(configuration),
                    "{id} activates `{configuration}`, which the server did not list"
                );
                held.active.insert(configuration.to_string());
            }
        }
        held
    }

    /// The status report the device sends after `held`, as one JSON line.
    pub(crate) fn report(&self, held: &Held) -> Value {
        let mut os = json!({
            "family": self.family,
            "version": self.version,
            "build-version": self.build,
        });
        if let Some((build, extra)) = &self.supplemental {
            os["supplemental"] = json!({ "build-version": build, "extra-version": extra });
        }
        let mut declarations: Map<String, Value> = Map::new();
        for kind in ["activations", "configurations", "assets", "management"] {
            declarations.insert(kind.into(), json!([]));
        }
        for (id, (kind, declaration)) in &held.declarations {
            let active = match kind.as_str() {
                "Activations" => held.active_activations.contains(id),
                "Configurations" => held.active.contains(id),
                _ => true,
            };
            declarations[&kind.to_lowercase()]
                .as_array_mut()
                .unwrap()
                .push(json!({
                    "identifier": id,
                    "server-token": declaration["ServerToken"],
                    "active": active,
                    "valid": "valid",
                }));
        }
        json!({
            "StatusItems": {
                "device": {
                    "identifier": { "serial-number": self.serial },
                    "operating-system": os,
                },
                "softwareupdate": { "install-state": self.install_state },
                "management": { "declarations": declarations },
            },
            "Errors": [],
            "FullReport": true,
        })
    }

    /// Sends `report` with `PUT /status`.
    pub(crate) fn put_status(&self, server: &Kmfddm, report: &Value) {
        let body = serde_json::to_vec(report).unwrap();
        let (status, answer) = server.device("PUT", &self.serial, "/status", Some(&body));
        assert!(
            (200..300).contains(&status),
            "PUT /status: {status} {answer}"
        );
    }

    /// The configurations the device applies, as (declaration type, payload).
    pub(crate) fn applied<'a>(&self, held: &'a Held) -> Vec<(&'a str, &'a Value)> {
        held.active
            .iter()
            .map(|id| {
                let declaration = &held.declarations[id].1;
                (
                    declaration["Type"].as_str().unwrap(),
                    &declaration["Payload"],
                )
            })
            .collect()
    }
}

/// A parsed predicate.
#[derive(Debug)]
enum Predicate {
    Or(Vec<Predicate>),
    And(Vec<Predicate>),
    Equals(String, String),
    In(String, Vec<String>),
    Matches(String, regex_lite::Regex),
}

impl Predicate {
    fn parse(text: &str) -> Predicate {
        let mut parser = Parser { text, at: 0 };
        let predicate = parser.or();
        parser.space();
        assert!(
            parser.at == text.len(),
            "predicate `{text}`: unexpected `{}`",
            &text[parser.at..]
        );
        predicate
    }

    fn eval(&self, device: &Device) -> bool {
        match self {
            Predicate::Or(all) => all.iter().any(|p| p.eval(device)),
            Predicate::And(all) => all.iter().all(|p| p.eval(device)),
            Predicate::Equals(item, value) => device.status_item(item) == *value,
            Predicate::In(item, values) => values.contains(&device.status_item(item)),
            Predicate::Matches(item, regex) => regex.is_match(&device.status_item(item)),
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn space(&mut self) {
        let trimmed = self.rest().trim_start();
        self.at = self.text.len() - trimmed.len();
    }

    fn eat(&mut self, word: &str) -> bool {
        self.space();
        if self.rest().starts_with(word) {
            self.at += word.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, word: &str) {
        assert!(
            self.eat(word),
            "predicate `{}`: expected `{word}` at `{}`",
            self.text,
            self.rest()
        );
    }

    fn or(&mut self) -> Predicate {
        let mut all = vec![self.and()];
        while self.eat("OR ") {
            all.push(self.and());
        }
        if all.len() == 1 {
            all.pop().unwrap()
        } else {
            Predicate::Or(all)
        }
    }

    fn and(&mut self) -> Predicate {
        let mut all = vec![self.primary()];
        while self.eat("AND ") {
            all.push(self.primary());
        }
        if all.len() == 1 {
            all.pop().unwrap()
        } else {
            Predicate::And(all)
        }
    }

    fn primary(&mut self) -> Predicate {
        if self.eat("(") {
            let inner = self.or();
            self.expect(")");
            return inner;
        }
        self.expect("@status(");
        let end = self.rest().find(')').expect("`@status(` is closed");
        let item = self.rest()[..end].to_string();
        self.at += end + 1;
        if self.eat("==") {
            return Predicate::Equals(item, self.string());
        }
        if self.eat("IN") {
            self.expect("{");
            let mut values = vec![self.string()];
            while self.eat(",") {
                values.push(self.string());
            }
            self.expect("}");
            return Predicate::In(item, values);
        }
        if self.eat("MATCHES") {
            let pattern = self.string();
            // NSPredicate's MATCHES is ICU's regex over the whole string.
            let regex = regex_lite::Regex::new(&format!("^(?:{pattern})$"))
                .unwrap_or_else(|e| panic!("MATCHES '{pattern}': {e}"));
            return Predicate::Matches(item, regex);
        }
        panic!(
            "predicate `{}`: an operator bsic never wrote at `{}`",
            self.text,
            self.rest()
        );
    }

    fn string(&mut self) -> String {
        self.expect("'");
        let end = self.rest().find('\'').expect("a closed string");
        let value = self.rest()[..end].to_string();
        assert!(
            !value.contains('\\'),
            "predicate `{}`: an escape bsic never wrote",
            self.text
        );
        self.at += end + 1;
        value
    }
}

/// Apple's combine rule and rangelist for a key path of a configuration type, from Apple's
/// own declaration definitions in `apple/`.
fn combine_rule(declaration_type: &str, path: &[String]) -> (String, Vec<Value>) {
    let short = declaration_type.trim_start_matches("com.apple.configuration.");
    let file = crate::util::repo(&format!(
        "apple/device-management/declarative/declarations/configurations/{short}.yaml"
    ));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let doc: Value = serde_norway::from_str(&text).unwrap();
    let mut keys = doc["payloadkeys"].as_array().cloned().unwrap_or_default();
    let mut found = Value::Null;
    for part in path {
        found = keys
            .iter()
            .find(|k| k["key"] == *part)
            .cloned()
            .unwrap_or_else(|| panic!("{declaration_type}: no key {path:?}"));
        keys = found["subkeys"].as_array().cloned().unwrap_or_default();
    }
    (
        found["combinetype"].as_str().unwrap_or("first").to_string(),
        found["rangelist"].as_array().cloned().unwrap_or_default(),
    )
}

/// Every leaf of a payload as (dotted path, value).
fn leaves(prefix: &mut Vec<String>, value: &Value, out: &mut Vec<(Vec<String>, Value)>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                prefix.push(key.clone());
                leaves(prefix, value, out);
                prefix.pop();
            }
        }
        leaf => out.push((prefix.clone(), leaf.clone())),
    }
}

/// The device's effective settings: every key of the applied configurations of `types`,
/// merged across configurations by Apple's combine rule for it, keyed `Type/Dotted.Path`.
pub(crate) fn effective(applied: &[(&str, &Value)], types: &[&str]) -> BTreeMap<String, Value> {
    let mut values: BTreeMap<(String, Vec<String>), Vec<Value>> = BTreeMap::new();
    for (declaration_type, payload) in applied {
        if !types.contains(declaration_type) {
            continue;
        }
        let mut found = Vec::new();
        leaves(&mut Vec::new(), payload, &mut found);
        for (path, value) in found {
            values
                .entry((declaration_type.to_string(), path))
                .or_default()
                .push(value);
        }
    }
    values
        .into_iter()
        .map(|((declaration_type, path), all)| {
            let (rule, range) = combine_rule(&declaration_type, &path);
            let position = |v: &Value| range.iter().position(|r| r == v).unwrap();
            let merged = match rule.as_str() {
                "boolean-and" => Value::Bool(all.iter().all(|v| v.as_bool().unwrap())),
                "boolean-or" => Value::Bool(all.iter().any(|v| v.as_bool().unwrap())),
                "number-max" => all.iter().max_by_key(|v| v.as_i64().unwrap()).cloned().unwrap(),
                "number-min" => all.iter().min_by_key(|v| v.as_i64().unwrap()).cloned().unwrap(),
                "enum-last" => all.iter().max_by_key(|v| position(v)).cloned().unwrap(),
                "enum-first" => all.iter().min_by_key(|v| position(v)).cloned().unwrap(),
                "first" => {
                    assert!(
                        all.iter().all(|v| *v == all[0]),
                        "{declaration_type} {path:?}: values {all:?} that only the processing order decides"
                    );
                    all[0].clone()
                }
                other => panic!("{declaration_type} {path:?}: combine rule `{other}` not simulated"),
            };
            (format!("{declaration_type}/{}", path.join(".")), merged)
        })
        .collect()
}
