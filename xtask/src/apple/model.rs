//! Typed model of Apple's device-management YAML (see `docs/schema.md` in the
//! vendored tree), limited to what the generator needs.
//!
//! Fields that carry meaning are parsed strictly (`deny_unknown_fields`), so a
//! new field in a future Apple release stops the generator with the file and
//! key path instead of being silently dropped. Prose (`content`, `description`)
//! and sections the generator does not use are skipped.
//!
//! Apple's files use YAML anchors and aliases, and two of them
//! (`com.apple.homescreenlayout`, `com.apple.applicationaccess.new`) alias a
//! key list inside itself, which makes the tree infinitely deep. Keys are
//! therefore read with a [`DeserializeSeed`] that tracks the `subkeytype` of
//! the enclosing keys: `subkeytype` names a structure uniquely (schema.md), so
//! a key whose `subkeytype` is already open above it repeats that structure
//! and is recorded as [`Subkeys::Recursive`] instead of being expanded.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// One YAML file: a declaration, a profile payload, a credential, ...
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// Human-readable title of the whole object.
    pub title: Option<String>,
    /// Information about the object as a whole.
    pub payload: Payload,
    /// The keys of the payload dictionary.
    #[serde(default, deserialize_with = "deserialize_key_list")]
    pub payloadkeys: Vec<Key>,
    #[serde(default, rename = "description")]
    _description: Option<IgnoredAny>,
    #[serde(default, rename = "responsekeys")]
    _responsekeys: Option<IgnoredAny>,
    #[serde(default, rename = "reasons")]
    _reasons: Option<IgnoredAny>,
    #[serde(default, rename = "notes")]
    _notes: Option<IgnoredAny>,
    #[serde(default, rename = "related-status-items")]
    _related_status_items: Option<IgnoredAny>,
}

impl Document {
    /// A status item's definition with only what the availability table reads: for the
    /// overlay's status items, which the vendored YAML does not define yet.
    pub fn status_item(title: &str, name: &str, supported_os: SupportedOs) -> Self {
        Self {
            title: Some(title.to_owned()),
            payload: Payload {
                payloadtype: None,
                declarationtype: None,
                credentialtype: None,
                requesttype: None,
                statusitemtype: Some(name.to_owned()),
                supported_os,
                apply: None,
                beta: None,
                _content: None,
            },
            payloadkeys: Vec::new(),
            _description: None,
            _responsekeys: None,
            _reasons: None,
            _notes: None,
            _related_status_items: None,
        }
    }
}

/// The `payload` object of a document.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payload {
    /// Profile payload type (`PayloadType`).
    pub payloadtype: Option<String>,
    /// Declaration type (`Type` of a declaration).
    pub declarationtype: Option<String>,
    /// Credential asset data type.
    pub credentialtype: Option<String>,
    /// MDM command or protocol request type.
    pub requesttype: Option<String>,
    /// Status item type.
    pub statusitemtype: Option<String>,
    /// Availability of the payload as a whole.
    #[serde(default, rename = "supportedOS")]
    pub supported_os: SupportedOs,
    /// How several configurations of this type combine.
    pub apply: Option<String>,
    /// Whether Apple marks the payload as beta.
    pub beta: Option<bool>,
    #[serde(default, rename = "content")]
    _content: Option<IgnoredAny>,
}

/// The platforms Apple's YAML describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
pub enum Os {
    /// iOS and iPadOS.
    #[serde(rename = "iOS")]
    Ios,
    /// macOS.
    #[serde(rename = "macOS")]
    MacOs,
    /// tvOS.
    #[serde(rename = "tvOS")]
    TvOs,
    /// visionOS.
    #[serde(rename = "visionOS")]
    VisionOs,
    /// watchOS.
    #[serde(rename = "watchOS")]
    WatchOs,
}

/// A `supportedOS` object: availability per platform.
pub type SupportedOs = BTreeMap<Os, OsAvailability>;

/// Availability on one platform (schema.md, "iOS, macOS, ... Objects").
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OsAvailability {
    /// Version that introduced the feature, or `n/a`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    /// Version that deprecated the feature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<String>,
    /// Version that removed the feature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed: Option<String>,
    /// MDM access rights needed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accessrights: Option<String>,
    /// Whether several copies of the payload may be installed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multiple: Option<bool>,
    /// Supported on the device channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devicechannel: Option<bool>,
    /// Supported on the user channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userchannel: Option<bool>,
    /// Only on supervised devices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supervised: Option<bool>,
    /// Only on devices provisioned through automated enrollment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requiresdep: Option<bool>,
    /// Only with user-approved MDM enrollment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userapprovedmdm: Option<bool>,
    /// The user may install the profile by hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowmanualinstall: Option<bool>,
    /// Setup pane always skipped (skip keys only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub always_skippable: Option<bool>,
    /// Behaviour on Shared iPad.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sharedipad: Option<SharedIpad>,
    /// Behaviour under user enrollment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userenrollment: Option<UserEnrollment>,
    /// Enrollment types allowed for declarative device management.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_enrollments: Option<Vec<String>>,
    /// Enrollment scopes allowed for declarative device management.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_scopes: Option<Vec<String>>,
}

/// Shared iPad behaviour of a payload or key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SharedIpad {
    /// `allowed`, `required`, `forbidden` or `ignored`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Installable on the device channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devicechannel: Option<bool>,
    /// Installable on the user channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userchannel: Option<bool>,
    /// Enrollment scopes allowed for declarative device management.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_scopes: Option<Vec<String>>,
}

/// User enrollment behaviour of a payload or key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserEnrollment {
    /// `allowed`, `required`, `forbidden` or `ignored`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Special behaviour under user enrollment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behavior: Option<String>,
}

/// Overwrites the fields of `$target` that are set in `$source`.
macro_rules! overwrite_set_fields {
    ($target:ident, $source:ident; $($field:ident),+ $(,)?) => {
        $(if $source.$field.is_some() {
            $target.$field.clone_from(&$source.$field);
        })+
    };
}

impl OsAvailability {
    /// Updates `self` with every field `other` sets; nested objects merge field by field.
    pub fn merge_from(&mut self, other: &Self) {
        overwrite_set_fields!(self, other;
            introduced, deprecated, removed, accessrights, multiple, devicechannel,
            userchannel, supervised, requiresdep, userapprovedmdm, allowmanualinstall,
            always_skippable, allowed_enrollments, allowed_scopes);
        if let Some(theirs) = &other.sharedipad {
            let ours = self.sharedipad.get_or_insert_with(SharedIpad::default);
            overwrite_set_fields!(ours, theirs; mode, devicechannel, userchannel, allowed_scopes);
        }
        if let Some(theirs) = &other.userenrollment {
            let ours = self
                .userenrollment
                .get_or_insert_with(UserEnrollment::default);
            overwrite_set_fields!(ours, theirs; mode, behavior);
        }
    }

    /// Whether the platform is marked as not supporting the feature at all.
    pub fn is_unavailable(&self) -> bool {
        self.introduced.as_deref() == Some("n/a")
    }
}

/// Merges `other` into `base` platform by platform (see [`OsAvailability::merge_from`]).
pub fn merge_supported_os(base: &mut SupportedOs, other: &SupportedOs) {
    for (os, availability) in other {
        base.entry(*os).or_default().merge_from(availability);
    }
}

/// The value type of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum KeyType {
    /// `<string>`
    #[serde(rename = "<string>")]
    String,
    /// `<integer>`
    #[serde(rename = "<integer>")]
    Integer,
    /// `<real>`
    #[serde(rename = "<real>")]
    Real,
    /// `<boolean>`
    #[serde(rename = "<boolean>")]
    Boolean,
    /// `<date>` (deprecated by Apple in favour of strings)
    #[serde(rename = "<date>")]
    Date,
    /// `<data>`
    #[serde(rename = "<data>")]
    Data,
    /// `<array>`
    #[serde(rename = "<array>")]
    Array,
    /// `<dictionary>`
    #[serde(rename = "<dictionary>")]
    Dictionary,
    /// `<any>`
    #[serde(rename = "<any>")]
    Any,
}

impl KeyType {
    /// The type's name without angle brackets, as used in the availability table.
    pub fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Real => "real",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::Data => "data",
            Self::Array => "array",
            Self::Dictionary => "dictionary",
            Self::Any => "any",
        }
    }
}

/// Whether a key must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    /// The key must be present.
    Required,
    /// The key may be absent.
    Optional,
}

impl Presence {
    /// The YAML spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Optional => "optional",
        }
    }
}

/// A `range` or `repetition` object.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    /// Lower bound, inclusive.
    pub min: Option<serde_json::Number>,
    /// Upper bound, inclusive.
    pub max: Option<serde_json::Number>,
}

/// The name Apple uses for "any key" in a dictionary's subkeys.
pub const WILDCARD_KEY: &str = "ANY";

/// One entry of `payloadkeys` or `subkeys`.
#[derive(Debug, Clone)]
pub struct Key {
    /// The key name ([`WILDCARD_KEY`] for arbitrary names).
    pub name: String,
    /// Human-readable title.
    pub title: Option<String>,
    /// Value type.
    pub ty: KeyType,
    /// Whether the key must be present.
    pub presence: Option<Presence>,
    /// Availability overrides for this key (inherit from the enclosing key or payload).
    pub supported_os: SupportedOs,
    /// Default value.
    pub default: Option<serde_json::Value>,
    /// Allowed values.
    pub rangelist: Option<Vec<serde_json::Value>>,
    /// Numeric bounds of the value.
    pub range: Option<Bounds>,
    /// Bounds on how often an array item repeats.
    pub repetition: Option<Bounds>,
    /// Regular expression a string value must match.
    pub format: Option<String>,
    /// How values from several configurations combine.
    pub combinetype: Option<String>,
    /// Name of the structure of the subkeys.
    pub subkeytype: Option<String>,
    /// Structure of a container's contents.
    pub subkeys: Subkeys,
}

/// The contents of a container key.
#[derive(Debug, Clone, Default)]
pub enum Subkeys {
    /// No `subkeys`: the contents are unconstrained.
    #[default]
    None,
    /// The listed keys (dictionary) or single item definition (array).
    Keys(Vec<Key>),
    /// The same subkeys as the nearest enclosing key with this `subkeytype`.
    Recursive(String),
}

fn deserialize_key_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Key>, D::Error> {
    KeyListSeed {
        parent: "",
        open_subkeytypes: &[],
    }
    .deserialize(deserializer)
}

/// Reads a list of keys below `parent` (a dotted key path, empty at the root).
struct KeyListSeed<'a> {
    parent: &'a str,
    open_subkeytypes: &'a [String],
}

impl<'de> DeserializeSeed<'de> for KeyListSeed<'_> {
    type Value = Vec<Key>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for KeyListSeed<'_> {
    type Value = Vec<Key>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of key definitions")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut keys = Vec::new();
        while let Some(key) = seq.next_element_seed(KeySeed {
            parent: self.parent,
            open_subkeytypes: self.open_subkeytypes,
        })? {
            keys.push(key);
        }
        Ok(keys)
    }
}

/// Reads one key definition.
struct KeySeed<'a> {
    parent: &'a str,
    open_subkeytypes: &'a [String],
}

impl KeySeed<'_> {
    fn path_of(&self, name: Option<&str>) -> String {
        let name = name.unwrap_or("?");
        if self.parent.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.parent)
        }
    }
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key definition")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut name: Option<String> = None;
        let mut title = None;
        let mut ty = None;
        let mut presence = None;
        let mut supported_os = None;
        let mut default = None;
        let mut rangelist = None;
        let mut range = None;
        let mut repetition = None;
        let mut format = None;
        let mut combinetype = None;
        let mut subkeytype: Option<String> = None;
        let mut subkeys = Subkeys::None;

        // Errors of a field's value name the key; errors from nested keys already do.
        fn field<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
            map: &mut A,
            seed: &KeySeed<'_>,
            name: Option<&str>,
            field: &str,
        ) -> Result<Option<T>, A::Error> {
            map.next_value().map(Some).map_err(|e| {
                de::Error::custom(format_args!(
                    "key `{}`, field `{field}`: {e}",
                    seed.path_of(name)
                ))
            })
        }

        while let Some(field_name) = map.next_key::<String>()? {
            let n = name.as_deref();
            match field_name.as_str() {
                "key" => name = field(&mut map, &self, n, "key")?,
                "title" => title = field(&mut map, &self, n, "title")?,
                "type" => ty = field(&mut map, &self, n, "type")?,
                "presence" => presence = field(&mut map, &self, n, "presence")?,
                "supportedOS" => supported_os = field(&mut map, &self, n, "supportedOS")?,
                "default" => default = field(&mut map, &self, n, "default")?,
                "rangelist" => rangelist = field(&mut map, &self, n, "rangelist")?,
                "range" => range = field(&mut map, &self, n, "range")?,
                "repetition" => repetition = field(&mut map, &self, n, "repetition")?,
                "format" => format = field(&mut map, &self, n, "format")?,
                "combinetype" => combinetype = field(&mut map, &self, n, "combinetype")?,
                "subkeytype" => subkeytype = field(&mut map, &self, n, "subkeytype")?,
                "subkeys" => {
                    subkeys = match &subkeytype {
                        Some(open) if self.open_subkeytypes.contains(open) => {
                            map.next_value::<IgnoredAny>()?;
                            Subkeys::Recursive(open.clone())
                        }
                        _ => {
                            let path = self.path_of(n);
                            let mut open = self.open_subkeytypes.to_vec();
                            open.extend(subkeytype.iter().cloned());
                            Subkeys::Keys(map.next_value_seed(KeyListSeed {
                                parent: &path,
                                open_subkeytypes: &open,
                            })?)
                        }
                    }
                }
                // Prose and hints that the generated files do not carry.
                "content" | "subtype" | "valuetype" | "assettypes" | "asset-content-types" => {
                    map.next_value::<IgnoredAny>()?;
                }
                other => {
                    return Err(de::Error::custom(format_args!(
                        "key `{}`: unknown field `{other}`",
                        self.path_of(n)
                    )));
                }
            }
        }

        let Some(name) = name else {
            return Err(de::Error::custom(format_args!(
                "key definition without `key` below `{}`",
                self.path_of(None)
            )));
        };
        let Some(ty) = ty else {
            return Err(de::Error::custom(format_args!(
                "key `{}`: missing field `type`",
                self.path_of(Some(&name))
            )));
        };
        Ok(Key {
            name,
            title,
            ty,
            presence,
            supported_os: supported_os.unwrap_or_default(),
            default,
            rangelist,
            range,
            repetition,
            format,
            combinetype,
            subkeytype,
            subkeys,
        })
    }
}

/// Parses one YAML document.
pub fn parse_document(text: &str) -> Result<Document, serde_norway::Error> {
    serde_norway::from_str(text)
}
