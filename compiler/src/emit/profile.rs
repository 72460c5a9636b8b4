//! Configuration profiles for devices and MDMs without DDM: Restrictions
//! (`allowRapidSecurityResponse*`, deferrals) and, for macOS, `com.apple.SoftwareUpdate`.

use std::collections::BTreeMap;

use plist::{Dictionary, Value as Plist};

use crate::model::Platform;
use crate::model::knobs::LegacyValue;
use crate::resolve::{self, Effective, GroupPlan, PolicyIndex};
use crate::validate::Model;

use super::ids::{payload_uuid, platform_label, sha256_hex};
use super::{Artifact, ArtifactKind, partition};

pub(super) use crate::apple::types::RESTRICTIONS as RESTRICTIONS_TYPE;
/// How every profile's display name starts (the group's name follows); the MDM upload
/// scripts find the profiles bsic made by it.
pub(super) const DISPLAY_NAME_PREFIX: &str = "Software updates: ";

/// The legacy keys one platform gets: payload type → key → value.
type Payloads = BTreeMap<&'static str, BTreeMap<&'static str, Plist>>;

/// The legacy keys `effective` maps onto for `platform` ([`resolve::legacy_settings`]), and
/// the policies they come from.
fn profile_payloads(effective: &Effective, platform: Platform) -> (Payloads, Vec<PolicyIndex>) {
    let mut payloads: Payloads = BTreeMap::new();
    let mut sources = Vec::new();
    for setting in resolve::legacy_settings(effective, platform) {
        for (key, value) in setting.keys {
            let value = match value {
                LegacyValue::Flag(b) => Plist::Boolean(b),
                LegacyValue::Days(d) => Plist::Integer(d.into()),
            };
            payloads
                .entry(setting.payload)
                .or_default()
                .insert(key, value);
        }
        sources.push(setting.policy);
    }
    sources.sort_unstable();
    sources.dedup();
    (payloads, sources)
}

/// The legacy keys each platform of `plan` gets in a profile, for the platforms that get one
/// (the ones [`resolve::profile_platforms`] lists).
fn legacy_payloads(
    model: &Model,
    plan: &GroupPlan,
) -> BTreeMap<Platform, (Payloads, Vec<PolicyIndex>)> {
    plan.platforms
        .iter()
        .filter(|(p, _)| resolve::has_legacy_devices(model, **p))
        .map(|(p, e)| (*p, profile_payloads(e, *p)))
        .filter(|(_, (payloads, _))| !payloads.is_empty())
        .collect()
}

/// Every profile of one group: one per distinct set of legacy keys.
pub(super) fn emit_group(model: &Model, plan: &GroupPlan) -> Vec<Artifact> {
    let prefix = model.project.identifier_prefix.as_str();
    let variants = partition(&legacy_payloads(model, plan));
    let several = variants.len() > 1;
    variants
        .into_iter()
        .map(|(platforms, (payloads, sources))| {
            let mut identifier = format!("{prefix}.{}.profile", plan.group);
            if several {
                identifier = format!("{identifier}.{}", platform_label(&platforms));
            }
            let organization = model.project.organization.as_str();
            let (bytes, uuid) = build_profile(
                &identifier,
                organization,
                &plan.group,
                &platforms,
                &payloads,
            );
            Artifact {
                path: format!("profiles/{}/{identifier}.mobileconfig", plan.group),
                content_sha256: Some(sha256_hex(&bytes)),
                bytes,
                kind: ArtifactKind::Profile { signed: false },
                identifier,
                token: uuid,
                group: plan.group.clone(),
                platforms,
                sources,
            }
        })
        .collect()
}

/// Serializes a profile as an XML plist. Returns the bytes and the top-level `PayloadUUID`.
fn build_profile(
    identifier: &str,
    organization: &str,
    group: &str,
    platforms: &[Platform],
    payloads: &Payloads,
) -> (Vec<u8>, String) {
    let mut content = Vec::new();
    let mut uuids = Vec::new();
    for (payload_type, keys) in payloads {
        let payload_id = format!("{identifier}.{}", payload_suffix(payload_type));
        let mut dict = Dictionary::new();
        for (key, value) in keys {
            dict.insert((*key).to_string(), value.clone());
        }
        let hash = sha256_hex(&plist_bytes(&Plist::Dictionary(dict.clone())));
        let uuid = payload_uuid(&payload_id, &hash);
        dict.insert(
            "PayloadDisplayName".into(),
            display_name(payload_type).into(),
        );
        dict.insert("PayloadIdentifier".into(), payload_id.into());
        dict.insert("PayloadType".into(), (*payload_type).into());
        dict.insert("PayloadUUID".into(), uuid.clone().into());
        dict.insert("PayloadVersion".into(), Plist::Integer(1.into()));
        uuids.push(uuid);
        content.push(Plist::Dictionary(dict));
    }
    let top_uuid = payload_uuid(identifier, &uuids.join(","));
    let names: Vec<&str> = platforms.iter().map(|p| p.name()).collect();
    let mut top = Dictionary::new();
    top.insert("PayloadContent".into(), Plist::Array(content));
    top.insert(
        "PayloadDescription".into(),
        format!(
            "Software update and Background Security Improvement settings for group {group} ({}). \
             Generated by bsic from policy sources; do not edit.",
            names.join(", ")
        )
        .into(),
    );
    top.insert(
        "PayloadDisplayName".into(),
        format!("{DISPLAY_NAME_PREFIX}{group}").into(),
    );
    top.insert("PayloadIdentifier".into(), identifier.to_string().into());
    top.insert(
        "PayloadOrganization".into(),
        organization.to_string().into(),
    );
    top.insert("PayloadScope".into(), "System".into());
    top.insert("PayloadType".into(), "Configuration".into());
    top.insert("PayloadUUID".into(), top_uuid.clone().into());
    top.insert("PayloadVersion".into(), Plist::Integer(1.into()));
    let mut bytes = plist_bytes(&Plist::Dictionary(top));
    bytes.push(b'\n');
    (bytes, top_uuid)
}

fn plist_bytes(value: &Plist) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail for values built here.
    if value.to_writer_xml(&mut out).is_err() {
        out.clear();
    }
    out
}

fn payload_suffix(payload_type: &str) -> &'static str {
    match payload_type {
        RESTRICTIONS_TYPE => "restrictions",
        _ => "softwareupdate",
    }
}

fn display_name(payload_type: &str) -> &'static str {
    match payload_type {
        RESTRICTIONS_TYPE => "Restrictions",
        _ => "Software Update",
    }
}
