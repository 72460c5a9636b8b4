//! Apple's rules for merging one key across several declarations on a device.
//!
//! The rule of each key comes from Apple's definitions (`combinetype` in the generated
//! availability table), never from code: a new Apple release is a data change.

use serde_json::Value;

use crate::apple;

/// How Apple merges several values of one key (Apple's `combinetype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CombineRule {
    BooleanOr,
    BooleanAnd,
    NumberMin,
    NumberMax,
    /// The value whose position in the key's rangelist is first.
    EnumFirst,
    /// The value whose position in the key's rangelist is last.
    EnumLast,
    /// The first value processed: depends on an order the MDM does not promise.
    First,
    ArrayAppend,
    SetUnion,
}

impl CombineRule {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "boolean-or" => CombineRule::BooleanOr,
            "boolean-and" => CombineRule::BooleanAnd,
            "number-min" => CombineRule::NumberMin,
            "number-max" => CombineRule::NumberMax,
            "enum-first" => CombineRule::EnumFirst,
            "enum-last" => CombineRule::EnumLast,
            "first" => CombineRule::First,
            "array-append" => CombineRule::ArrayAppend,
            "set-union" => CombineRule::SetUnion,
            _ => return None,
        })
    }

    /// Apple's name for the rule.
    pub fn name(self) -> &'static str {
        match self {
            CombineRule::BooleanOr => "boolean-or",
            CombineRule::BooleanAnd => "boolean-and",
            CombineRule::NumberMin => "number-min",
            CombineRule::NumberMax => "number-max",
            CombineRule::EnumFirst => "enum-first",
            CombineRule::EnumLast => "enum-last",
            CombineRule::First => "first",
            CombineRule::ArrayAppend => "array-append",
            CombineRule::SetUnion => "set-union",
        }
    }

    /// The rule Apple defines for `key` of `declaration_type`, with the key's rangelist.
    pub fn of(declaration_type: &str, key: &str) -> (Option<CombineRule>, Vec<Value>) {
        let Some(definition) = apple::declaration_key(declaration_type, key) else {
            return (None, Vec::new());
        };
        let rule = definition
            .combinetype
            .as_deref()
            .and_then(CombineRule::parse);
        (rule, definition.rangelist.clone().unwrap_or_default())
    }
}

/// The outcome of merging several values.
#[derive(Debug, Clone, PartialEq)]
pub struct Combined {
    pub value: Value,
    /// Indexes of the inputs whose value is the result (or contributes to it).
    pub winners: Vec<usize>,
    /// True when the result depends on the order declarations are processed in.
    pub order_dependent: bool,
}

/// Merges `values` (in an arbitrary order) under `rule`. Without a rule, Apple does not merge
/// the key: differing values are then order-dependent and the first is shown.
pub fn combine(rule: Option<CombineRule>, rangelist: &[Value], values: &[Value]) -> Combined {
    let all_equal = values.windows(2).all(|w| w[0] == w[1]);
    let everyone = (0..values.len()).collect::<Vec<_>>();
    let first = values.first().cloned().unwrap_or(Value::Null);
    if all_equal {
        return Combined {
            value: first,
            winners: everyone,
            order_dependent: false,
        };
    }
    let pick = |target: &Value| Combined {
        value: target.clone(),
        winners: (0..values.len())
            .filter(|&i| values[i] == *target)
            .collect(),
        order_dependent: false,
    };
    match rule {
        Some(CombineRule::BooleanAnd) => {
            pick(&Value::Bool(values.iter().all(|v| v == &Value::Bool(true))))
        }
        Some(CombineRule::BooleanOr) => {
            pick(&Value::Bool(values.iter().any(|v| v == &Value::Bool(true))))
        }
        Some(CombineRule::NumberMax) => {
            let best = values
                .iter()
                .max_by(|a, b| number(a).total_cmp(&number(b)))
                .cloned();
            pick(&best.unwrap_or(Value::Null))
        }
        Some(CombineRule::NumberMin) => {
            let best = values
                .iter()
                .min_by(|a, b| number(a).total_cmp(&number(b)))
                .cloned();
            pick(&best.unwrap_or(Value::Null))
        }
        Some(CombineRule::EnumLast) | Some(CombineRule::EnumFirst) => {
            let position = |v: &Value| rangelist.iter().position(|r| r == v).unwrap_or(0);
            let best = if rule == Some(CombineRule::EnumLast) {
                values.iter().max_by_key(|v| position(v))
            } else {
                values.iter().min_by_key(|v| position(v))
            };
            pick(&best.cloned().unwrap_or(Value::Null))
        }
        Some(CombineRule::SetUnion) | Some(CombineRule::ArrayAppend) => {
            let mut union: Vec<Value> = Vec::new();
            for value in values {
                for item in value.as_array().map(Vec::as_slice).unwrap_or_default() {
                    if rule == Some(CombineRule::ArrayAppend) || !union.contains(item) {
                        union.push(item.clone());
                    }
                }
            }
            Combined {
                value: Value::Array(union),
                winners: everyone,
                order_dependent: false,
            }
        }
        Some(CombineRule::First) | None => Combined {
            value: first,
            winners: vec![0],
            order_dependent: true,
        },
    }
}

fn number(value: &Value) -> f64 {
    value.as_f64().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::apple::types::SETTINGS;

    fn run(key: &str, values: &[Value]) -> Combined {
        let (rule, rangelist) = CombineRule::of(SETTINGS, key);
        combine(rule, &rangelist, values)
    }

    #[test]
    fn rules_come_from_apple_data() {
        assert_eq!(
            CombineRule::of(SETTINGS, "RapidSecurityResponse.EnableRollback").0,
            Some(CombineRule::BooleanAnd)
        );
        assert_eq!(
            CombineRule::of(SETTINGS, "Deferrals.MajorPeriodInDays").0,
            Some(CombineRule::NumberMax)
        );
        assert_eq!(
            CombineRule::of(SETTINGS, "AutomaticActions.InstallSecurityUpdate").0,
            Some(CombineRule::EnumLast)
        );
        assert_eq!(
            CombineRule::of(SETTINGS, "Beta.RequireProgram").0,
            Some(CombineRule::First)
        );
        assert_eq!(
            CombineRule::of(SETTINGS, "Beta.OfferPrograms").0,
            Some(CombineRule::SetUnion)
        );
    }

    #[test]
    fn boolean_and_lets_false_win() {
        let c = run(
            "RapidSecurityResponse.EnableRollback",
            &[json!(true), json!(false), json!(true)],
        );
        assert_eq!(
            (c.value, c.winners, c.order_dependent),
            (json!(false), vec![1], false)
        );
    }

    #[test]
    fn number_max_takes_the_longest_deferral() {
        let c = run(
            "Deferrals.MajorPeriodInDays",
            &[json!(30), json!(60), json!(7)],
        );
        assert_eq!((c.value, c.winners), (json!(60), vec![1]));
    }

    #[test]
    fn enum_last_follows_apples_rangelist_not_arrival_order() {
        // Rangelist: Allowed, AlwaysOn, AlwaysOff: the last position wins, whatever the order.
        for values in [
            [json!("AlwaysOn"), json!("AlwaysOff")],
            [json!("AlwaysOff"), json!("AlwaysOn")],
        ] {
            let c = run("AutomaticActions.InstallSecurityUpdate", &values);
            assert_eq!(c.value, json!("AlwaysOff"));
            assert!(!c.order_dependent);
        }
        let c = run(
            "AutomaticActions.Download",
            &[json!("Allowed"), json!("AlwaysOn")],
        );
        assert_eq!(c.value, json!("AlwaysOn"));
    }

    #[test]
    fn first_depends_on_order() {
        let a = json!({"Description": "A", "Token": "1"});
        let b = json!({"Description": "B", "Token": "2"});
        let c = run("Beta.RequireProgram", &[a.clone(), b]);
        assert!(c.order_dependent);
        let same = run("Beta.RequireProgram", &[a.clone(), a]);
        assert!(!same.order_dependent);
    }

    #[test]
    fn set_union_merges_without_duplicates() {
        let c = run(
            "Beta.OfferPrograms",
            &[
                json!([{"Token": "1"}]),
                json!([{"Token": "1"}, {"Token": "2"}]),
            ],
        );
        assert_eq!(c.value, json!([{"Token": "1"}, {"Token": "2"}]));
    }
}
