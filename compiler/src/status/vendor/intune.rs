//! Microsoft Intune's managed devices, as Microsoft Graph lists them (`GET
//! /deviceManagement/managedDevices`, the `managedDevice` resource): a JSON object whose
//! `value` holds one object per device — `serialNumber`, `operatingSystem` (`macOS`, `iOS`,
//! `iPadOS`, and `Windows`, `Android` for the tenant's other devices, which are skipped),
//! `osVersion`, `model`, `deviceName`, … — with `@odata.nextLink` pages concatenated by
//! whoever exported them (one file per page works too). `osVersion` is the only OS field:
//! for Macs Intune writes the build beside the version (`15.3.1 (24D70)`), which
//! [`super::OsCell`] takes apart, a supplemental build included. Graph documents no
//! supplemental version of its own, so a BSI shows only where `osVersion` carries it.

use serde_json::{Map, Value};

/// Whether a JSON collection is Graph's: an `@odata.context`, or the managed-device fields.
pub(super) fn is_graph(top: &Value, objects: &[(usize, Map<String, Value>)]) -> bool {
    top.get("@odata.context").is_some()
        || objects
            .iter()
            .any(|(_, o)| o.contains_key("osVersion") || o.contains_key("serialNumber"))
}
