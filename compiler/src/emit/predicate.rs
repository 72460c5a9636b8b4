//! Activation predicates, generated from group filters and platform sets.
//!
//! The device evaluates them as NSPredicate strings over its status items. OS versions are
//! strings there, and string comparison would put "26.10" before "26.9", so version ranges
//! become a regular expression over whole numbers (`MATCHES`), built digit range by digit range.

use crate::model::{ModelPattern, OsRange, Platform};

/// The status item a device reports its hardware model identifier in (`iPhone17,1`).
pub(crate) const MODEL_STATUS_ITEM: &str = "device.model.identifier";

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

/// An NSPredicate limiting an activation to some hardware models: the exact identifiers as one
/// `IN` set, each family prefix as a `BEGINSWITH`, joined by `OR`; none when unlimited.
pub(crate) fn model_predicate(models: &[ModelPattern]) -> Option<String> {
    let item = format!("@status({MODEL_STATUS_ITEM})");
    let exact: Vec<String> = models
        .iter()
        .filter(|m| m.prefix().is_none())
        .map(|m| format!("'{m}'"))
        .collect();
    let mut terms = Vec::new();
    match exact.as_slice() {
        [] => {}
        [one] => terms.push(format!("{item} == {one}")),
        many => terms.push(format!("{item} IN {{{}}}", many.join(", "))),
    }
    terms.extend(
        models
            .iter()
            .filter_map(ModelPattern::prefix)
            .map(|prefix| format!("{item} BEGINSWITH '{prefix}'")),
    );
    // The activation parenthesises each condition when it has several.
    (!terms.is_empty()).then(|| terms.join(" OR "))
}

/// An NSPredicate limiting an activation to an OS version range; none when unbounded.
///
/// The whole minor versions of the range become one group of alternatives followed by an
/// optional patch number, as always. A bound that names a patch (`min="26.3.2"`) gets an
/// alternative of its own for its minor version with the patch numbers it admits, so the
/// patch is compiled in rather than dropped.
pub(crate) fn os_predicate(range: &OsRange) -> Option<String> {
    if range.min.is_none() && range.max.is_none() {
        return None;
    }
    let mut low = range.min.as_ref().map_or((0, 0), major_minor);
    let mut high = range.max.as_ref().map(major_minor);
    let low_patch = range.min.as_ref().map_or(0, |v| v.components()[2]);
    let high_patch = range
        .max
        .as_ref()
        .filter(|v| v.has_patch())
        .map(|v| v.components()[2]);
    let mut with_patch = Vec::new();
    let mut whole_minors = true;
    if high == Some(low) && (low_patch > 0 || high_patch.is_some()) {
        with_patch.push(format!(
            "{}[.]{}{}",
            low.0,
            low.1,
            patch_part(low_patch, high_patch)
        ));
        whole_minors = false;
    } else {
        if low_patch > 0 {
            with_patch.push(format!(
                "{}[.]{}{}",
                low.0,
                low.1,
                patch_part(low_patch, None)
            ));
            low = (low.0, low.1 + 1);
        }
        if let (Some(patch), Some(max)) = (high_patch, high) {
            with_patch.push(format!(
                "{}[.]{}{}",
                max.0,
                max.1,
                patch_part(0, Some(patch))
            ));
            match previous_minor(max) {
                Some(previous) => high = Some(previous),
                None => whole_minors = false,
            }
        }
        whole_minors &= high.is_none_or(|high| low <= high);
    }
    let minors = if whole_minors {
        minor_alternatives(low, high)
    } else {
        Vec::new()
    };
    let pattern = if with_patch.is_empty() {
        format!("({})([.][0-9]+)?", minors.join("|"))
    } else {
        let mut all = Vec::new();
        if !minors.is_empty() {
            all.push(format!("({})([.][0-9]+)?", minors.join("|")));
        }
        all.extend(with_patch);
        format!("({})", all.join("|"))
    };
    let matches = format!("@status(device.operating-system.version) MATCHES '^{pattern}$'");
    // A bound with a patch number is also named as written: the regex already admits it, and
    // the equality lets whoever reads the declaration see the version the group starts or
    // ends at.
    let named: Vec<String> = [range.min.as_ref(), range.max.as_ref()]
        .into_iter()
        .flatten()
        .filter(|v| v.has_patch())
        .map(|v| format!("@status(device.operating-system.version) == '{v}'"))
        .collect();
    if named.is_empty() {
        return Some(matches);
    }
    Some(format!("({} OR {matches})", named.join(" OR ")))
}

fn major_minor(version: &crate::model::OsVersion) -> (u32, u32) {
    let [major, minor, _] = version.components();
    (major, minor)
}

/// The minor version before `version`: `26.0` → `25.99` (the open end stands for "any").
fn previous_minor((major, minor): (u32, u32)) -> Option<(u32, u32)> {
    match (major, minor) {
        (0, 0) => None,
        (major, 0) => Some((major - 1, OPEN_END)),
        (major, minor) => Some((major, minor - 1)),
    }
}

/// The patch part of a version in `lo..=hi` (`hi` open when `None`); optional when 0 is in
/// range, since `26.3` is patch 0 of `26.3`.
fn patch_part(lo: u32, hi: Option<u32>) -> String {
    let numbers = match hi {
        Some(hi) => number_range(lo, hi),
        None if lo == 0 => "[0-9]+".to_string(),
        None => format!("({}|[1-9][0-9]{{2,}})", number_range(lo, OPEN_END)),
    };
    if lo == 0 {
        format!("([.]{numbers})?")
    } else {
        format!("[.]{numbers}")
    }
}

/// Alternatives matching every `MAJOR.MINOR` from `low` to `high` (open when `None`).
fn minor_alternatives(low: (u32, u32), high: Option<(u32, u32)>) -> Vec<String> {
    let (min_major, min_minor) = low;
    let (max_major, max_minor) = high.unwrap_or((OPEN_END, OPEN_END));
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
    if high.is_none() {
        // Any major beyond the open end: three or more digits.
        alternatives.push("[1-9][0-9]{2,}[.][0-9]+".into());
    }
    alternatives
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

    /// Evaluates the predicate as the device would: `== 'X'` terms, or the `MATCHES` regex.
    fn matches(range: &OsRange, version: &str) -> bool {
        let predicate = os_predicate(range).unwrap();
        let (named, pattern) = predicate.rsplit_once("MATCHES").unwrap();
        let equal = named
            .split(" OR ")
            .filter_map(|term| term.split('\'').nth(1))
            .any(|value| value == version);
        let pattern = pattern.split('\'').nth(1).unwrap();
        equal || regex_lite::Regex::new(pattern).unwrap().is_match(version)
    }

    fn range(min: Option<&str>, max: Option<&str>) -> OsRange {
        OsRange {
            min: min.map(|v| v.parse().unwrap()),
            max: max.map(|v| v.parse().unwrap()),
        }
    }

    #[test]
    fn model_filters_become_one_set_and_prefixes() {
        let models = |list: &[&str]| -> Vec<ModelPattern> {
            list.iter().map(|m| m.parse().unwrap()).collect()
        };
        assert_eq!(
            model_predicate(&models(&["iPhone18,1"])).unwrap(),
            "@status(device.model.identifier) == 'iPhone18,1'"
        );
        assert_eq!(
            model_predicate(&models(&["iPhone17,1", "iPhone17,2", "Mac17,*"])).unwrap(),
            "@status(device.model.identifier) IN {'iPhone17,1', 'iPhone17,2'} OR \
             @status(device.model.identifier) BEGINSWITH 'Mac17,'"
        );
        assert!(model_predicate(&[]).is_none());
        for bad in [
            "iPhone",
            "17,1",
            "iPhone17",
            "iPhone17,",
            "Mac17,1*",
            "J413AP",
            "iPhone 17,1",
            "*",
        ] {
            assert!(bad.parse::<ModelPattern>().is_err(), "{bad}");
        }
        let family: ModelPattern = "Mac17,*".parse().unwrap();
        assert!(
            family.matches("Mac17,2") && !family.matches("Mac171,2") && !family.matches("Mac1,7")
        );
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

    /// A bound's patch number is compiled in: each version from 24.0 to 28.12.12 is matched
    /// exactly when `OsRange::contains` says it is in the range.
    #[test]
    fn patch_bounds_are_compiled_in_and_agree_with_contains() {
        let ranges = [
            range(Some("26.3.2"), None),
            range(Some("26.3.2"), Some("26.3.5")),
            range(Some("26.3.2"), Some("27.1.1")),
            range(Some("26.3"), Some("27.0.3")),
            range(None, Some("26.0.1")),
            range(Some("26.1"), Some("26.4")),
            range(Some("26.10.1"), Some("26.12")),
        ];
        for r in &ranges {
            for major in 24..=28 {
                for minor in 0..=12 {
                    for patch in [
                        None,
                        Some(0),
                        Some(1),
                        Some(2),
                        Some(3),
                        Some(5),
                        Some(6),
                        Some(12),
                    ] {
                        let text = match patch {
                            Some(p) => format!("{major}.{minor}.{p}"),
                            None => format!("{major}.{minor}"),
                        };
                        let version: crate::model::OsVersion = text.parse().unwrap();
                        assert_eq!(
                            matches(r, &text),
                            r.contains(&version),
                            "{text} in {:?}..{:?}",
                            r.min,
                            r.max
                        );
                    }
                }
            }
        }
        // Ranges without a patch compile as before (the bytes devices already hold).
        assert_eq!(
            os_predicate(&range(Some("26.1"), None)).unwrap(),
            "@status(device.operating-system.version) MATCHES \
             '^(26[.]([1-9]|1[0-9]|[2-9][0-9])|(2[7-9]|[3-8][0-9]|9[0-8])[.][0-9]+|99[.]([0-9]|1[0-9]|[2-9][0-9])|[1-9][0-9]{2,}[.][0-9]+)([.][0-9]+)?$'"
        );
    }
}
