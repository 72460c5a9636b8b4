//! Typed values: a model value cannot hold something Apple would reject.
//!
//! Each newtype parses from a string with [`std::str::FromStr`]; the same parser backs the
//! JSON Schema `format` the validate stage registers, so the schema and the model agree.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Why a string is not a valid value of its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! string_newtype {
    ($name:ident, $format:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The JSON Schema `format` name this type registers.
            pub const FORMAT: &'static str = $format;

            /// Whether `text` is a value of this type: the check behind [`Self::FORMAT`].
            pub fn conforms(text: &str) -> bool {
                text.parse::<Self>().is_ok()
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(value: String) -> Result<Self, ParseError> {
                value.parse()
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "format": $format,
                    "description": $doc,
                })
            }
        }
    };
}

string_newtype!(
    OsVersion,
    "os-version",
    "An OS version: MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. \"26.3.1\"."
);
string_newtype!(
    BuildVersion,
    "build-version",
    "An Apple build: two digits, a train letter, digits, and an optional lower-case suffix, e.g. \"25D771280a\"."
);
string_newtype!(
    LocalDateTime,
    "local-date-time",
    "A local date and time without offset, yyyy-mm-ddThh:mm:ss, e.g. \"2026-04-01T09:00:00\"."
);
string_newtype!(
    DetailsUrl,
    "https-url",
    "An absolute https URL shown to users with the update."
);
string_newtype!(
    Name,
    "name",
    "A group or policy name: 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit."
);
string_newtype!(
    ModelPattern,
    "model-identifier",
    "A hardware model identifier as the device reports it, e.g. \"iPhone17,1\", or a family prefix ending in '*', e.g. \"Mac17,*\"."
);
string_newtype!(
    IdentifierPrefix,
    "reverse-dns",
    "A reverse-DNS prefix for declaration and profile identifiers, e.g. \"com.example.it\"."
);

impl FromStr for OsVersion {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let parts: Vec<&str> = s.split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(ParseError(
                "it needs two or three numbers separated by dots".into(),
            ));
        }
        for part in &parts {
            let numeric =
                !part.is_empty() && part.len() <= 4 && part.bytes().all(|b| b.is_ascii_digit());
            if !numeric || (part.len() > 1 && part.starts_with('0')) {
                return Err(ParseError(format!("`{part}` is not a version number")));
            }
        }
        Ok(Self(s.to_string()))
    }
}

/// Types whose order is their text's: names, builds, local date-times (fixed width), URLs.
macro_rules! text_order {
    ($($name:ident),*) => {$(
        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.0.cmp(&other.0)
            }
        }
    )*};
}

text_order!(
    ModelPattern,
    BuildVersion,
    LocalDateTime,
    DetailsUrl,
    Name,
    IdentifierPrefix
);

/// Versions order as numbers, component by component (`26.9` < `26.10`), a missing patch
/// counting as 0; `26.3` and `26.3.0` are equal as versions and ordered by their text only
/// to keep the order total.
impl Ord for OsVersion {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.cmp_numeric(other).then_with(|| self.0.cmp(&other.0))
    }
}

/// The one version ordering: dotted version texts compared as numbers, component by
/// component, a missing component counting as 0 (`26` = `26.0` = `26.0.0`, `26.9` <
/// `26.10`). A part that is not a number counts as 0, so Apple's data (`26`, `10.7.5`) and
/// bsic's versions compare alike.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let number = |part: Option<&str>| part.map_or(0, |p| p.parse::<u64>().unwrap_or(0));
    let (mut left, mut right) = (a.split('.'), b.split('.'));
    loop {
        match (left.next(), right.next()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (l, r) => match number(l).cmp(&number(r)) {
                std::cmp::Ordering::Equal => {}
                unequal => return unequal,
            },
        }
    }
}

impl PartialOrd for OsVersion {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl OsVersion {
    /// Whether a patch number is written (`26.3.1`, not `26.3`).
    pub fn has_patch(&self) -> bool {
        self.0.split('.').count() > 2
    }

    /// Compares as versions only ([`compare_versions`]): `26.3` and `26.3.0` are equal.
    pub fn cmp_numeric(&self, other: &Self) -> std::cmp::Ordering {
        compare_versions(&self.0, &other.0)
    }

    /// Compares major and minor only: `26.4` and `26.4.3` are the same minor release.
    pub fn cmp_minor(&self, other: &Self) -> std::cmp::Ordering {
        let ([major, minor, _], [other_major, other_minor, _]) =
            (self.components(), other.components());
        (major, minor).cmp(&(other_major, other_minor))
    }

    /// The numeric components, padded to three.
    pub fn components(&self) -> [u32; 3] {
        let mut out = [0; 3];
        for (slot, part) in out.iter_mut().zip(self.0.split('.')) {
            *slot = part.parse().unwrap_or(0);
        }
        out
    }
}

impl FromStr for ModelPattern {
    type Err = ParseError;
    /// A model identifier is a family name and a version pair (`iPhone17,1`, `MacBookPro18,3`,
    /// `Mac17,2`); a pattern may end in `*` after the family name, its major number, or the
    /// comma (`iPhone*`, `Mac17*`, `Mac17,*`).
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let (body, wildcard) = match s.strip_suffix('*') {
            Some(body) => (body, true),
            None => (s, false),
        };
        let family = body.bytes().take_while(u8::is_ascii_alphabetic).count();
        if family == 0 || s.len() > 40 {
            return Err(ParseError(
                "it must start with the model family, e.g. \"iPhone\" or \"Mac\"".into(),
            ));
        }
        let rest = &body[family..];
        let (major, minor) = match rest.split_once(',') {
            Some((major, minor)) => (major, Some(minor)),
            None => (rest, None),
        };
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        let ok = match (wildcard, minor) {
            (false, Some(minor)) => {
                !major.is_empty() && digits(major) && !minor.is_empty() && digits(minor)
            }
            (false, None) => false,
            (true, Some(minor)) => !major.is_empty() && digits(major) && minor.is_empty(),
            (true, None) => digits(major),
        };
        if !ok {
            return Err(ParseError(if wildcard {
                "a family prefix ends in `*` after the family, its number or the comma, e.g. \"Mac17,*\"".into()
            } else {
                "a model identifier is a family and two numbers, e.g. \"iPhone17,1\"; end a prefix with `*`".into()
            }));
        }
        Ok(Self(s.to_string()))
    }
}

impl ModelPattern {
    /// The prefix a `*` pattern admits, or `None` for an exact model identifier.
    pub fn prefix(&self) -> Option<&str> {
        self.0.strip_suffix('*')
    }

    /// Whether the device model identifier `model` belongs to the pattern.
    pub fn matches(&self, model: &str) -> bool {
        match self.prefix() {
            Some(prefix) => model.starts_with(prefix) && model.len() > prefix.len(),
            None => self.0 == model,
        }
    }
}

impl FromStr for BuildVersion {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let b = s.as_bytes();
        let digits_before = b.iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=2).contains(&digits_before) {
            return Err(ParseError(
                "it must start with the one- or two-digit OS train".into(),
            ));
        }
        if !b.get(digits_before).is_some_and(u8::is_ascii_uppercase) {
            return Err(ParseError(
                "the train number must be followed by an upper-case letter".into(),
            ));
        }
        let rest = &b[digits_before + 1..];
        let number = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if number == 0 || number > 9 {
            return Err(ParseError(
                "the letter must be followed by 1 to 9 digits".into(),
            ));
        }
        match &rest[number..] {
            [] => {}
            [suffix] if suffix.is_ascii_lowercase() => {}
            _ => {
                return Err(ParseError(
                    "only one lower-case letter may end a build".into(),
                ));
            }
        }
        Ok(Self(s.to_string()))
    }
}

impl BuildVersion {
    /// The trailing lower-case letter, if any: the supplemental (BSI) suffix, or a beta marker.
    pub fn suffix(&self) -> Option<char> {
        self.0.chars().last().filter(char::is_ascii_lowercase)
    }

    /// The digits between the train letter and the suffix.
    fn build_number(&self) -> &str {
        let start = self
            .0
            .find(|c: char| c.is_ascii_uppercase())
            .map_or(0, |i| i + 1);
        let digits = self.0[start..]
            .chars()
            .take_while(char::is_ascii_digit)
            .count();
        &self.0[start..start + digits]
    }

    /// A supplemental (BSI / RSR) build: a long build number with a letter suffix, such as
    /// `25D771280a`. Beta builds (`25A5316i`) also end in a letter but carry a short number.
    pub fn is_supplemental(&self) -> bool {
        self.suffix().is_some() && self.build_number().len() >= 6
    }

    /// A beta or seed build: a four-digit number starting with 5 plus a letter, e.g. `25A5316i`.
    pub fn looks_like_beta(&self) -> bool {
        let number = self.build_number();
        self.suffix().is_some() && number.len() <= 5 && number.starts_with('5')
    }
}

/// The earliest year a local date-time may name: the start of Unix time, before which no
/// device's clock can be.
pub const MIN_YEAR: u32 = 1970;

impl FromStr for LocalDateTime {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let b = s.as_bytes();
        let shape_ok = b.len() == 19
            && b.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                10 => *c == b'T',
                13 | 16 => *c == b':',
                _ => c.is_ascii_digit(),
            });
        if !shape_ok {
            if s.ends_with('Z') || s.get(19..).is_some_and(|t| t.starts_with(['+', '-'])) {
                return Err(ParseError("it carries a time zone offset".into()));
            }
            return Err(ParseError(
                "it is not in the form yyyy-mm-ddThh:mm:ss".into(),
            ));
        }
        let num = |range: std::ops::Range<usize>| s[range].parse::<u32>().unwrap_or(0);
        let (year, month, day) = (num(0..4), num(5..7), num(8..10));
        let (hour, minute, second) = (num(11..13), num(14..16), num(17..19));
        // A placeholder such as 0000-01-01 is no deadline: no device clock reads a time
        // before 1970, so every such date is past for every device, by construction.
        if year < MIN_YEAR {
            return Err(ParseError(format!(
                "year {year:04} is before {MIN_YEAR}, earlier than any device clock"
            )));
        }
        if !(1..=12).contains(&month) {
            return Err(ParseError(format!("month {month:02} does not exist")));
        }
        if calendar_date(year, month, day).is_none() {
            return Err(ParseError(format!(
                "day {day:02} does not exist in {year}-{month:02}"
            )));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(ParseError(format!(
                "{hour:02}:{minute:02}:{second:02} is not a time of day"
            )));
        }
        Ok(Self(s.to_string()))
    }
}

/// The calendar date `year-month-day`, if it exists (leap years are the `time` crate's job).
fn calendar_date(year: u32, month: u32, day: u32) -> Option<time::Date> {
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    time::Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()
}

impl LocalDateTime {
    /// This date-time read as UTC, in Unix seconds (deadlines are compared with the clock
    /// this way, with a time-zone margin added by the caller).
    pub fn unix_seconds(&self) -> i64 {
        let s = &self.0;
        let num = |range: std::ops::Range<usize>| s[range].parse::<u32>().unwrap_or(0);
        let Some(date) = calendar_date(num(0..4), num(5..7), num(8..10)) else {
            return 0;
        };
        let seconds = i64::from(num(11..13)) * 3600 + i64::from(num(14..16)) * 60;
        date.midnight().assume_utc().unix_timestamp() + seconds + i64::from(num(17..19))
    }
}

/// The UTC date-time `unix` seconds after 1970 name, as `yyyy-mm-ddThh:mm:ss` (years before
/// 1970 included, so the parser can say why it refuses them). Outside the years the `time`
/// crate covers (±9999) it is the number itself, which no parser takes for a date.
pub fn utc_date_time_text(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(at) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second()
        ),
        Err(_) => unix.to_string(),
    }
}

impl FromStr for DetailsUrl {
    type Err = ParseError;
    /// An absolute https URL written exactly as devices will use it. The URL parser alone is
    /// not enough: it silently drops tabs and newlines and percent-encodes spaces and markup,
    /// while the declaration carries the text as written, so such characters are refused.
    fn from_str(s: &str) -> Result<Self, ParseError> {
        if let Some(bad) = s.chars().find(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '<' | '>' | '"' | '`' | '{' | '}' | '|' | '\\' | '^')
        }) {
            return Err(ParseError(format!(
                "{} is not allowed in a URL; percent-encode it",
                match bad {
                    ' ' => "a space".to_string(),
                    c if c.is_whitespace() || c.is_control() => {
                        format!("the control or space character U+{:04X}", u32::from(c))
                    }
                    c => format!("`{c}`"),
                }
            )));
        }
        let url = url::Url::parse(s).map_err(|e| ParseError(e.to_string()))?;
        if url.scheme() != "https" {
            return Err(ParseError(format!(
                "the scheme `{}` is not https",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ParseError("it has no host".into()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ParseError(
                "it carries a user name or password, which every device would show".into(),
            ));
        }
        Ok(Self(s.to_string()))
    }
}

/// Whether XML 1.0 can carry `c` at all, raw or as a character reference: tab, line feed,
/// carriage return and everything from U+0020 except U+FFFE and U+FFFF (lone surrogates
/// cannot occur in a Rust string). Profiles are XML plists, and Apple's parser (like Python's
/// plistlib) rejects the whole profile over one such character.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{fffe}' | '\u{ffff}'))
}

/// The first character of `text` that XML 1.0 cannot carry, with its byte offset.
pub fn first_non_xml_char(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|(_, c)| !is_xml_char(*c))
}

/// Names that would be unsafe or confusing as file names on some system.
const RESERVED_NAMES: &[&str] = &["con", "prn", "aux", "nul", "com1", "lpt1", ".", ".."];

impl FromStr for Name {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        if s.is_empty() || s.len() > 64 {
            return Err(ParseError("it must be 1 to 64 characters long".into()));
        }
        // Names become identifier labels and file names on every OS, so they keep to ASCII:
        // case-insensitive file systems fold ASCII case the same way everywhere.
        if let Some(bad) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(ParseError(format!(
                "`{}` is not allowed: names use ASCII letters and digits, `-`, `_` and `.`",
                bad.escape_debug()
            )));
        }
        if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(ParseError(
                "it must start with an ASCII letter or digit (a-z, A-Z, 0-9)".into(),
            ));
        }
        if s.ends_with('.') {
            return Err(ParseError(
                "it must not end with `.`: identifiers would get an empty label, and Windows \
                 drops a trailing dot from file names"
                    .into(),
            ));
        }
        if RESERVED_NAMES.contains(&s.to_ascii_lowercase().as_str()) || s.contains("..") {
            return Err(ParseError(
                "it is reserved on some file systems, or has an empty `..` label".into(),
            ));
        }
        Ok(Self(s.to_string()))
    }
}

impl FromStr for IdentifierPrefix {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let labels: Vec<&str> = s.split('.').collect();
        if labels.len() < 2 {
            return Err(ParseError("it needs at least two labels".into()));
        }
        for label in labels {
            let ok = !label.is_empty()
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-');
            if !ok {
                return Err(ParseError(format!("`{label}` is not a valid label")));
            }
        }
        Ok(Self(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_which_characters_are_allowed_and_never_make_empty_labels() {
        for good in ["pilot", "Lab-2", "a.b", "x_y", "9"] {
            assert!(good.parse::<Name>().is_ok(), "{good}");
        }
        for (bad, says) in [
            ("abc.", "end with `.`"),
            ("a..b", "empty"),
            ("équipe", "ASCII"),
            ("caf\u{e9}", "ASCII"),
            ("-x", "start with"),
            ("a b", "not allowed"),
        ] {
            let message = bad.parse::<Name>().unwrap_err().0;
            assert!(message.contains(says), "{bad}: {message}");
        }
    }

    #[test]
    fn os_versions_order_as_numbers() {
        let v = |s: &str| s.parse::<OsVersion>().unwrap();
        assert!(v("26.9") < v("26.10"));
        assert!(v("26.3.1") < v("26.3.10"));
        assert!(v("26.3") < v("26.3.1"));
        assert!(v("9.9") < v("26.0"));
        let mut sorted = [v("26.10"), v("26.9"), v("100.0"), v("26.3.2")];
        sorted.sort();
        let text: Vec<String> = sorted.iter().map(ToString::to_string).collect();
        assert_eq!(text, ["26.3.2", "26.9", "26.10", "100.0"]);
    }

    #[test]
    fn os_versions() {
        assert!("26.3.1".parse::<OsVersion>().is_ok());
        assert!("26.3".parse::<OsVersion>().is_ok());
        for bad in ["26", "26.3.1.1", "26.x", "26..1", "026.1", "", "26.3.1 "] {
            assert!(bad.parse::<OsVersion>().is_err(), "{bad}");
        }
        assert_eq!(
            "26.3".parse::<OsVersion>().unwrap().components(),
            [26, 3, 0]
        );
    }

    #[test]
    fn builds_and_their_suffixes() {
        let bsi: BuildVersion = "25D771280a".parse().unwrap();
        assert!(bsi.is_supplemental() && !bsi.looks_like_beta());
        let beta: BuildVersion = "25A5316i".parse().unwrap();
        assert!(beta.looks_like_beta() && !beta.is_supplemental());
        let release: BuildVersion = "25D125".parse().unwrap();
        assert!(release.suffix().is_none() && !release.is_supplemental());
        for bad in ["25d125", "D125", "25D", "25D125ab", "25D125A", "125D1"] {
            assert!(bad.parse::<BuildVersion>().is_err(), "{bad}");
        }
    }

    #[test]
    fn unix_seconds_and_utc_text_agree() {
        for text in [
            "1970-01-01T00:00:00",
            "2000-02-29T01:01:01",
            "9999-12-31T23:59:59",
        ] {
            let at: LocalDateTime = text.parse().unwrap();
            assert_eq!(utc_date_time_text(at.unix_seconds()), text);
        }
        assert_eq!(utc_date_time_text(-1), "1969-12-31T23:59:59");
        assert_eq!(utc_date_time_text(i64::MAX), i64::MAX.to_string());
    }

    #[test]
    fn local_date_times() {
        assert!("2026-04-01T09:00:00".parse::<LocalDateTime>().is_ok());
        assert!("2028-02-29T23:59:59".parse::<LocalDateTime>().is_ok());
        assert!("1970-01-01T00:00:00".parse::<LocalDateTime>().is_ok());
        for bad in [
            "2026-04-01T09:00:00Z",
            "2026-04-01T09:00:00+02:00",
            "2026-04-01 09:00:00",
            "2026-13-01T09:00:00",
            "2026-02-29T09:00:00",
            "2026-04-31T09:00:00",
            "2026-04-01T24:00:00",
            "0000-01-01T00:00:00",
            "1969-12-31T23:59:59",
        ] {
            assert!(bad.parse::<LocalDateTime>().is_err(), "{bad}");
        }
        let offset = "2026-04-01T09:00:00Z".parse::<LocalDateTime>().unwrap_err();
        assert!(offset.0.contains("offset"));
    }

    #[test]
    fn xml_characters() {
        for ok in [
            '\t',
            '\n',
            '\r',
            ' ',
            'é',
            '\u{fffd}',
            '\u{10000}',
            '\u{7f}',
        ] {
            assert!(is_xml_char(ok), "{ok:?}");
        }
        for bad in ['\0', '\u{1}', '\u{1b}', '\u{1f}', '\u{fffe}', '\u{ffff}'] {
            assert!(!is_xml_char(bad), "{bad:?}");
        }
        assert_eq!(first_non_xml_char("Evil\u{1}Corp"), Some((4, '\u{1}')));
        assert_eq!(first_non_xml_char("line\none"), None);
    }

    #[test]
    fn urls_names_prefixes() {
        assert!("https://it.example.com/bsi".parse::<DetailsUrl>().is_ok());
        assert!(
            "https://it.example.com/a?b=c%20d#e"
                .parse::<DetailsUrl>()
                .is_ok()
        );
        for bad in [
            "ftp://example.com",
            "not a url",
            "http://it.example.com/bsi",
            "https://it.example.com/\n<b>click</b>",
            "https://it.example.com/\tx",
            "https://it.example.com/a b",
            "https://it.example.com/<script>",
            "https://user:pw@it.example.com/",
            "/relative/path",
            "https://",
        ] {
            assert!(bad.parse::<DetailsUrl>().is_err(), "{bad:?}");
        }
        let http = "http://x.example".parse::<DetailsUrl>().unwrap_err();
        assert!(http.0.contains("`http`"), "{http}");
        assert!("pilot".parse::<Name>().is_ok());
        for bad in ["../etc", "a/b", "", "-x", "con", "a..b"] {
            assert!(bad.parse::<Name>().is_err(), "{bad}");
        }
        assert!("com.example.it".parse::<IdentifierPrefix>().is_ok());
        assert!("example".parse::<IdentifierPrefix>().is_err());
    }
}
