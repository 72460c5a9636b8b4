//! The one conversion from a property-list value to JSON.
//!
//! In: a `plist::Value` (read from an XML or binary plist by the `plist` crate). Out: the
//! `serde_json::Value` that schema checks, raw validation and `plan` look at. Every part of
//! bsic that needs a plist as JSON calls [`to_json`], so the rules are stated once:
//!
//! - **integer**: a JSON integer. Signed when it fits `i64`, else unsigned when it fits
//!   `u64` (a plist integer is at most 64 bits either way, so nothing is lost).
//! - **real**: a JSON number; a NaN or an infinity, which JSON cannot carry, becomes `null`.
//! - **date**: a string in Apple's XML form, `yyyy-mm-ddThh:mm:ssZ`.
//! - **data**: a string of lowercase hex digits (two per byte). bsic never compares data
//!   values with anything; the string only keeps the key present.
//! - **dictionary** / **array** / **boolean** / **string**: their JSON counterparts, key
//!   order kept.
//! - anything else (a keyed-archive UID): `null`.
//!
//! The XML reader in `raw::plist` keeps positions and so reads element text itself: it
//! follows the same integer and real rules, and keeps `<date>` and `<data>` as written
//! (whitespace removed from data), since neither is ever compared.

use serde_json::{Number, Value};

/// `value` as JSON, by the rules in this module's header.
pub(crate) fn to_json(value: &plist::Value) -> Value {
    match value {
        plist::Value::Dictionary(d) => {
            Value::Object(d.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
        plist::Value::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        plist::Value::Boolean(b) => Value::Bool(*b),
        plist::Value::Integer(i) => i
            .as_signed()
            .map(Value::from)
            .or_else(|| i.as_unsigned().map(Value::from))
            .unwrap_or(Value::Null),
        plist::Value::Real(r) => Number::from_f64(*r).map_or(Value::Null, Value::Number),
        plist::Value::String(s) => Value::String(s.clone()),
        plist::Value::Data(d) => Value::String(d.iter().map(|b| format!("{b:02x}")).collect()),
        plist::Value::Date(d) => Value::String(d.to_xml_format()),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_plist_type_has_one_json_form() {
        let mut dict = plist::Dictionary::new();
        dict.insert("b".into(), plist::Value::Boolean(true));
        dict.insert("i".into(), plist::Value::Integer((-3).into()));
        dict.insert("u".into(), plist::Value::Integer(u64::MAX.into()));
        dict.insert("r".into(), plist::Value::Real(1.5));
        dict.insert("nan".into(), plist::Value::Real(f64::NAN));
        dict.insert("d".into(), plist::Value::Data(vec![0, 0xab]));
        dict.insert(
            "t".into(),
            plist::Value::Date(plist::Date::from_xml_format("2026-04-01T09:00:00Z").unwrap()),
        );
        dict.insert(
            "a".into(),
            plist::Value::Array(vec![plist::Value::String("s".into())]),
        );
        assert_eq!(
            to_json(&plist::Value::Dictionary(dict)),
            json!({
                "b": true, "i": -3, "u": u64::MAX, "r": 1.5, "nan": null, "d": "00ab",
                "t": "2026-04-01T09:00:00Z", "a": ["s"]
            })
        );
    }
}
