//! Addigy's device facts. The Devices page exports a CSV with one column per fact shown
//! ("Serial Number", "OS Version", "Device Model Name", …), read by the shared CSV reader;
//! API v2's device list answers device objects whose facts are either keys of the object or
//! gathered under `facts`, each a value or an object with a `value`. Both are flattened to
//! fact name → value here. The fact names are Addigy's display names, matched like any
//! header ([`super::Column::of`]).

use serde_json::{Map, Value};

/// A device object's facts by name: its own keys, and those under `facts`, each fact's
/// `value` when it is an object.
pub(super) fn flatten(object: Map<String, Value>) -> Vec<(String, Value)> {
    let mut flat = Vec::new();
    for (key, value) in object {
        match (key.as_str(), value) {
            ("facts", Value::Object(facts)) => flat.extend(flatten(facts)),
            (_, Value::Object(mut fact)) => {
                if let Some(inner) = fact.remove("value") {
                    flat.push((key, inner));
                }
            }
            (_, value) => flat.push((key, value)),
        }
    }
    flat
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_nested_or_wrapped_come_out_by_name() {
        let object: Map<String, Value> = serde_json::from_str(
            r#"{"agentid": "1", "facts": {"Serial Number": {"value": "C02X"}, "OS Version": "26.3.1"}}"#,
        )
        .unwrap();
        let flat = flatten(object);
        assert!(flat.contains(&("Serial Number".into(), Value::from("C02X"))));
        assert!(flat.contains(&("OS Version".into(), Value::from("26.3.1"))));
    }
}
