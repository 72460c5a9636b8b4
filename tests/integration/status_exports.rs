//! `bsic status --export` (issue 23): the inventory exports of FileWave, Microsoft Intune and
//! Addigy judged like Apple's status reports, with the reference project's kiosks, which must
//! reach 26.3.1 (a) (`25D771280a`) by 2027-01-15T09:00.
//!
//! The exports are written in the shapes the vendors document:
//! - FileWave, "Command Line API (v1)" (kb.filewave.com/books/application-programming-interface-api/
//!   page/command-line-api-v1) and "Working With APIs" (…/page/working-with-apis): a query's
//!   `fields` (`Component_column`) and the result's rows of `values`; the console's CSV export
//!   of an inventory query ("Inventory Queries (Reports)", kb.filewave.com/books/
//!   filewave-central-anywhere/chapter/inventory-queries-reports), headed by the fields'
//!   display names, here from a German console;
//! - Microsoft Graph, "managedDevice resource type" and "List managedDevices"
//!   (learn.microsoft.com/graph/api/resources/intune-devices-manageddevice,
//!   …/api/intune-devices-manageddevice-list): `{"value": [...]}` with `serialNumber`,
//!   `operatingSystem`, `osVersion`, `model`;
//! - Addigy, "API Documentation (v2)" (support.addigy.com/hc/en-us/articles/16938210315411):
//!   devices with their facts; the Devices page's CSV export of facts ("Serial Number",
//!   "OS Version").

use serde_json::Value;

use crate::util::{Project, Run};

/// The inventory: which group each exported device is in, and the platform of those whose
/// export names none.
const INVENTORY: &str = "serial,groups,platform\nK-SUPP,kiosks\nK-BASE,kiosks\nK-NEWER,kiosks\nK-OLD,kiosks\nK-DE1,kiosks,macOS\nK-DE2,kiosks,macOS\nI-MAC,kiosks\nI-IPHONE,staff\nA-MAC,kiosks,macOS\n";

/// A FileWave query result (JSON, the Command Line API's answer).
const FILEWAVE_JSON: &str = r#"{
  "offset": 0,
  "fields": ["Client_device_name", "Client_serial_number", "OperatingSystem_name",
             "OperatingSystem_version", "OperatingSystem_build",
             "OperatingSystem_supplemental_version_extra",
             "OperatingSystem_supplemental_build_version", "Client_filewave_client_version"],
  "values": [
    ["lobby-1", "K-SUPP", "macOS 26", "26.3.1", "25D2128", "(a)", "25D771280a", "16.2.0"],
    ["lobby-2", "K-BASE", "macOS 26", "26.3.1", "25D2128", null, null, "16.2.0"],
    ["lobby-3", "K-NEWER", "macOS 26", "26.4", "25E5223", "", "", "16.2.0"],
    ["lobby-4", "K-OLD", "macOS 26", "26.2", "25C56", null, null, "16.2.0"],
    ["lobby-5", "", "macOS 26", "26.3.1", "25D2128", null, null, "16.2.0"],
    ["lobby-1", "K-SUPP", "macOS 26", "26.3.1", "25D2128", "(a)", "25D771280a", "16.2.0"]
  ],
  "filter_results": 6,
  "total_results": 6,
  "version": 3
}
"#;

/// A FileWave console CSV export from a German console: `;`-separated, localised headers.
const FILEWAVE_CSV: &str = "Gerätename;Seriennummer;Betriebssystemversion;Betriebssystem-Build;Zusätzliche Version (Supplemental);Supplemental Build-Version\nlobby-6;K-DE1;26.3.1;25D2128;(a);25D771280a\nlobby-7;K-DE2;26.3.1;25D2128;;\n";

/// Graph's managedDevices list: a Mac whose osVersion carries the supplemental build, an
/// iPhone, and a Windows PC the tenant also manages.
const INTUNE_JSON: &str = r#"{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#deviceManagement/managedDevices",
  "value": [
    {"id": "1", "deviceName": "kiosk-mac", "operatingSystem": "macOS",
     "osVersion": "26.3.1 (a) (25D771280a)", "model": "Mac mini", "serialNumber": "I-MAC"},
    {"id": "2", "deviceName": "phone", "operatingSystem": "iOS", "osVersion": "26.3",
     "model": "iPhone 17", "serialNumber": "I-IPHONE"},
    {"id": "3", "deviceName": "pc", "operatingSystem": "Windows",
     "osVersion": "10.0.26100.1", "model": "Surface", "serialNumber": "W-PC"}
  ]
}
"#;

/// Addigy's Devices export of facts.
const ADDIGY_CSV: &str =
    "Device Name,Serial Number,OS Version,Device Model Name\nkiosk-a,A-MAC,26.2,Mac mini\n";

fn project() -> Project {
    let project = Project::reference();
    project.write("devices.csv", INVENTORY);
    project.write("exports/filewave.json", FILEWAVE_JSON);
    project.write("exports/filewave.csv", FILEWAVE_CSV);
    project.write("exports/intune.json", INTUNE_JSON);
    project.write("exports/addigy.csv", ADDIGY_CSV);
    project
}

fn status(project: &Project, exports: &[&str], now: &str) -> Run {
    let mut bsic = project.bsic().args([
        "status",
        "--devices",
        "devices.csv",
        "--format",
        "json",
        "--now",
        now,
    ]);
    for export in exports {
        bsic = bsic.args(["--export", export]);
    }
    let run = bsic.run();
    assert!(run.crash_text().is_none(), "crashed\n{}", run.describe());
    run
}

fn document(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.describe()))
}

fn state_of<'a>(doc: &'a Value, serial: &str) -> &'a str {
    doc["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["serial"] == serial)
        .and_then(|d| d["state"].as_str())
        .unwrap_or("absent")
}

#[test]
fn vendor_exports_are_judged_like_status_reports() {
    let project = project();
    let all = [
        "exports/filewave.json",
        "exports/filewave.csv",
        "exports/intune.json",
        "exports/addigy.csv",
    ];
    let run = status(&project, &all, "2027-01-01T00:00:00");
    run.assert_code(0);
    let doc = document(&run);
    for (serial, state) in [
        // FileWave: the supplemental build reached; the base only (pending before the
        // deadline); a newer base OS with blank supplemental fields (compliant, not missing);
        // an older base.
        ("K-SUPP", "compliant"),
        ("K-BASE", "pending"),
        ("K-NEWER", "compliant"),
        ("K-OLD", "pending"),
        // The same fields under a German console's headers.
        ("K-DE1", "compliant"),
        ("K-DE2", "pending"),
        // Intune: osVersion with the supplemental build in it; an iPhone no policy pins.
        ("I-MAC", "compliant"),
        ("I-IPHONE", "compliant"),
        // Addigy: an older base.
        ("A-MAC", "pending"),
        // Intune's Windows PC is not an Apple device: not judged at all.
        ("W-PC", "absent"),
    ] {
        assert_eq!(state_of(&doc, serial), state, "{serial}\n{}", run.stdout);
    }
    let supp = doc["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["serial"] == "K-SUPP")
        .unwrap();
    assert_eq!(supp["os"]["supplemental-build"], "25D771280a");
    assert_eq!(supp["os"]["extra-version"], "(a)");
    // Past the deadline, the devices still on the base are overdue.
    let later = document(&status(&project, &all, "2027-02-01T00:00:00"));
    assert_eq!(state_of(&later, "K-BASE"), "overdue");
    assert_eq!(state_of(&later, "K-NEWER"), "compliant");
}

#[test]
fn bad_exports_are_located_warnings_and_the_rest_is_judged() {
    let project = project();
    // A console CSV that lacks the supplemental build column and has no serial in one row.
    project.write(
        "exports/short.csv",
        "Serial Number,OS Version\nK-DE1,26.3.1\n,26.3.1\nK-OLD,twenty-six\n",
    );
    let run = status(
        &project,
        &["exports/filewave.json", "exports/short.csv"],
        "2027-01-01T00:00:00",
    );
    run.assert_code(0);
    let doc = document(&run);
    let warnings: Vec<(String, String, u64)> = doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["code"].as_str().unwrap().to_string(),
                w["file"].as_str().unwrap().to_string(),
                w["line"].as_u64().unwrap(),
            )
        })
        .collect();
    for expected in [
        // FileWave JSON: the row without a serial (its line), the repeated device.
        ("bsic::status-export-row", "exports/filewave.json", 12),
        ("bsic::status-duplicate-device", "exports/filewave.json", 13),
        // The short CSV: its header lacks the supplemental build; a row without a serial; a
        // version that is none.
        ("bsic::status-export-column", "exports/short.csv", 1),
        ("bsic::status-export-row", "exports/short.csv", 3),
        ("bsic::status-bad-version", "exports/short.csv", 4),
    ] {
        let expected = (expected.0.to_string(), expected.1.to_string(), expected.2);
        assert!(
            warnings.contains(&expected),
            "{expected:?} not in {warnings:#?}"
        );
    }
    // The rest is judged: the good rows of both files.
    assert_eq!(state_of(&doc, "K-SUPP"), "compliant");
    assert_eq!(state_of(&doc, "K-DE1"), "pending");
    assert_eq!(state_of(&doc, "K-OLD"), "unknown");
    // The warnings are on stderr too, each with its file and line.
    assert!(
        run.stderr
            .contains("exports/short.csv:1: no supplemental build column"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unreadable_export_exits_2() {
    let project = project();
    project.write(
        "exports/garbage.json",
        "{\"fields\": [\"a\"], \"values\": 3}",
    );
    project.write("exports/other.json", "{\"something\": []}");
    project.write("exports/table.csv", "colour,size\nred,3\n");
    project.write("exports/binary.csv", b"\xff\xfe\x00\x01");
    for file in [
        "exports/garbage.json",
        "exports/other.json",
        "exports/table.csv",
        "exports/binary.csv",
        "exports/missing.json",
    ] {
        let run = status(&project, &[file], "2027-01-01T00:00:00");
        run.assert_code(2);
        assert!(
            run.stderr.contains("status-unreadable-export")
                || run.stderr.contains("status-unreadable"),
            "{file}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{file}: {}", run.stdout);
    }
}
