//! Activation predicates, generated from group filters and platform sets.
//!
//! The device evaluates them as NSPredicate strings over its status items. OS versions are
//! strings there, and string comparison would put "26.10" before "26.9", so version ranges
//! become a regular expression over whole numbers (`MATCHES`), built digit range by digit range.

use crate::model::{OsRange, Platform};

/// The largest major or minor version number a range expands to when it has no upper bound.
const OPEN_END: u32 = 99;

/// An NSPredicate limiting an activation to some OS families; none when all are covered.
pub(crate) fn family_predicate(platforms: &[Platform]) -> Option<String> {
    if Platform::ALL.iter().all(|p| platforms.contains(p)) {
        return None;
    }
    let quoted: Vec<String> = platforms
        .iter()
        .map(|p| format!("'{}'", p.name()))
        .collect();
    Some(match quoted.as_slice() {
        [one] => format!("@status(device.operating-system.family) == {one}"),
        many => format!(
            "@status(device.operating-system.family) IN {{{}}}",
            many.join(", ")
        ),
    })
}

/// An NSPredicate limiting an activation to an OS version range; none when unbounded.
pub(crate) fn os_predicate(range: &OsRange) -> Option<String> {
    if range.min.is_none() && range.max.is_none() {
        return None;
    }
    let (min_major, min_minor) = range
        .min
        .as_ref()
        .map_or((0, 0), |v| (v.components()[0], v.components()[1]));
    let (max_major, max_minor) = range.max.as_ref().map_or((OPEN_END, OPEN_END), |v| {
        (v.components()[0], v.components()[1])
    });
    let mut alternatives = Vec::new();
    if min_major == max_major {
        alternatives.push(format!(
            "{}[.]{}",
            min_major,
            number_range(min_minor, max_minor)
        ));
    } else {
        alternatives.push(format!(
            "{}[.]{}",
            min_major,
            number_range(min_minor, OPEN_END)
        ));
        if min_major + 1 < max_major {
            alternatives.push(format!(
                "{}[.][0-9]+",
                number_range(min_major + 1, max_major - 1)
            ));
        }
        alternatives.push(format!("{}[.]{}", max_major, number_range(0, max_minor)));
    }
    let unbounded_above = range.max.is_none();
    if unbounded_above {
        // Any major beyond the open end: three or more digits.
        alternatives.push("[1-9][0-9]{2,}[.][0-9]+".into());
    }
    Some(format!(
        "@status(device.operating-system.version) MATCHES '^({})([.][0-9]+)?$'",
        alternatives.join("|")
    ))
}

/// A regular expression matching the decimal numbers `lo..=hi` (no leading zeros).
fn number_range(lo: u32, hi: u32) -> String {
    if lo > hi {
        return "(?!)".into();
    }
    let mut parts = Vec::new();
    // Split at powers of ten so that each piece has one digit count.
    let mut start = lo;
    while start <= hi {
        let width = start.to_string().len();
        let top = 10u32
            .saturating_pow(u32::try_from(width).unwrap_or(9))
            .saturating_sub(1)
            .min(hi);
        parts.extend(same_width(&start.to_string(), &top.to_string()));
        start = top + 1;
    }
    if parts.len() == 1 {
        parts.remove(0)
    } else {
        format!("({})", parts.join("|"))
    }
}

/// Alternatives matching every digit string from `lo` to `hi`, both of the same width.
fn same_width(lo: &str, hi: &str) -> Vec<String> {
    if lo == hi {
        return vec![lo.to_string()];
    }
    let (lo_head, lo_tail) = lo.split_at(1);
    let (hi_head, hi_tail) = hi.split_at(1);
    if lo_tail.is_empty() {
        return vec![format!("[{lo_head}-{hi_head}]")];
    }
    if lo_head == hi_head {
        return same_width(lo_tail, hi_tail)
            .into_iter()
            .map(|t| format!("{lo_head}{t}"))
            .collect();
    }
    let width = lo_tail.len();
    let nines = "9".repeat(width);
    let zeros = "0".repeat(width);
    let any = if width == 1 {
        "[0-9]".to_string()
    } else {
        format!("[0-9]{{{width}}}")
    };
    let mut parts = Vec::new();
    if lo_tail == zeros {
        parts.push(format!("{lo_head}{any}"));
    } else {
        parts.extend(
            same_width(lo_tail, &nines)
                .into_iter()
                .map(|t| format!("{lo_head}{t}")),
        );
    }
    let (first, last) = (lo_head.as_bytes()[0] + 1, hi_head.as_bytes()[0] - 1);
    if hi_tail == nines {
        // The upper head can join the middle run.
        let middle_end = last + 1;
        if first <= middle_end {
            parts.push(format!("{}{any}", digit_class(first, middle_end)));
        }
        return parts;
    }
    if first <= last {
        parts.push(format!("{}{any}", digit_class(first, last)));
    }
    parts.extend(
        same_width(&zeros, hi_tail)
            .into_iter()
            .map(|t| format!("{hi_head}{t}")),
    );
    parts
}

fn digit_class(first: u8, last: u8) -> String {
    if first == last {
        char::from(first).to_string()
    } else {
        format!("[{}-{}]", char::from(first), char::from(last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(range: &OsRange, version: &str) -> bool {
        let predicate = os_predicate(range).unwrap();
        let pattern = predicate.split('\'').nth(1).unwrap();
        regex_lite::Regex::new(pattern).unwrap().is_match(version)
    }

    fn range(min: Option<&str>, max: Option<&str>) -> OsRange {
        OsRange {
            min: min.map(|v| v.parse().unwrap()),
            max: max.map(|v| v.parse().unwrap()),
        }
    }

    #[test]
    fn number_ranges_cover_exactly() {
        let re = |lo, hi| regex_lite::Regex::new(&format!("^{}$", number_range(lo, hi))).unwrap();
        for (lo, hi) in [(0, 9), (1, 99), (3, 17), (26, 26), (10, 99), (7, 123)] {
            let r = re(lo, hi);
            for n in 0..300 {
                assert_eq!(
                    r.is_match(&n.to_string()),
                    (lo..=hi).contains(&n),
                    "{n} in {lo}..={hi}"
                );
            }
        }
    }

    #[test]
    fn version_ranges_compare_numerically() {
        let from_26_1 = range(Some("26.1"), None);
        for (v, want) in [
            ("26.1", true),
            ("26.10", true),
            ("26.3.1", true),
            ("27.0", true),
            ("100.1", true),
            ("26.0", false),
            ("25.9", false),
            ("9.9", false),
        ] {
            assert_eq!(matches(&from_26_1, v), want, "{v}");
        }
        let window = range(Some("18.4"), Some("26.2"));
        for (v, want) in [
            ("18.4", true),
            ("18.10", true),
            ("19.0", true),
            ("26.2.1", true),
            ("26.3", false),
            ("18.3", false),
            ("2.6", false),
        ] {
            assert_eq!(matches(&window, v), want, "{v}");
        }
        assert!(os_predicate(&range(None, None)).is_none());
    }
}
