#!/usr/bin/env python3
"""A real-size Apple Software Lookup Service feed (gdmf.apple.com/v2/pmv shape) for
bench/catalog.sh: every platform, both asset sets and the BSI set, thousands of releases,
each with a SupportedDevices list as long as Apple's (50-130 devices).

Usage: catalog_feed.py RELEASES OUT.json
The releases the generated 1,000-policy fleet enforces (macOS 26.3 25D125, 26.3.1 25D2128
with BSI 25D771280a, iOS/iPadOS 26.3 23D125) are always included, so `bsic check` passes
with the catalog pinned.
"""
import json
import random
import sys

count = int(sys.argv[1])
out = sys.argv[2]
rng = random.Random(26)

iphones = [f"iPhone{a},{b}" for a in range(11, 19) for b in range(1, 9)]
ipads = [f"iPad{a},{b}" for a in range(7, 17) for b in range(1, 12)]
watches = [f"Watch{a},{b}" for a in range(4, 8) for b in range(1, 19)]
tvs = [f"AppleTV{a},1" for a in range(5, 15)]
macs = [f"J{n}AP" for n in range(100, 900, 7)] + [f"Mac-{rng.getrandbits(64):016X}" for _ in range(40)]
visions = ["RealityDevice14,1", "RealityDevice17,1"]
trains = {"iOS": 23, "macOS": 25, "visionOS": 23}


def release(platform, version, build, devices, extra=None, prerequisite=None):
    entry = {
        "ProductVersion": version,
        "Build": build,
        "PostingDate": f"2026-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}",
        "ExpirationDate": "2099-12-31",
        "SupportedDevices": sorted(devices),
    }
    if extra:
        entry["ProductVersionExtra"] = extra
    if prerequisite:
        entry["PrerequisiteBuild"] = prerequisite
    return entry


def devices_for(platform):
    if platform == "macOS":
        return rng.sample(macs, rng.randint(50, 130))
    if platform == "visionOS":
        return visions
    pool = rng.choice([iphones + ipads, watches, tvs, ipads])
    return rng.sample(pool, min(len(pool), rng.randint(50, 130)))


feed = {"PublicAssetSets": {}, "AssetSets": {}, "PublicBackgroundSecurityImprovements": {}}
n = 0
letters = "ABCDEFGHJKLMNPQRSTUVW"
for platform in ["iOS", "macOS", "visionOS"]:
    share = count // 3
    for i in range(share):
        major = 17 + i % 11
        minor = (i // 11) % 10
        patch = (i // 110) % 10
        version = f"{major}.{minor}.{patch}"
        train = trains[platform] - 26 + major
        build = f"{train}{letters[minor]}{100 + i}"
        target = rng.choice(["PublicAssetSets", "AssetSets"])
        feed[target].setdefault(platform, []).append(release(platform, version, build, devices_for(platform)))
        if i % 6 == 0 and platform != "visionOS":
            bsi = f"{train}{letters[minor]}{771000 + i}a"
            feed["PublicBackgroundSecurityImprovements"].setdefault(platform, []).append(
                release(platform, version, bsi, devices_for(platform), "(a)", build))
        n += 1

fleet = feed["PublicAssetSets"].setdefault("macOS", [])
fleet.append(release("macOS", "26.3", "25D125", macs))
fleet.append(release("macOS", "26.3.1", "25D2128", macs))
feed["PublicBackgroundSecurityImprovements"].setdefault("macOS", []).append(
    release("macOS", "26.3.1", "25D771280a", macs, "(a)", "25D2128"))
feed["PublicAssetSets"].setdefault("iOS", []).append(release("iOS", "26.3", "23D125", iphones + ipads))
with open(out, "w") as f:
    json.dump(feed, f, indent=1)
bsis = sum(len(v) for v in feed["PublicBackgroundSecurityImprovements"].values())
print(f"{n + 4} releases ({bsis} BSIs) in {out}")
