//! Simulated network clients, computed from the seed and the client's global number whenever a page
//! asks for them, so that half a million clients cost no memory. The mix has what the shipped
//! `new-client` rulebook and the original filter examples look for: printers (some first seen in
//! the last hour, MACs starting `00:00:5e`), a PlayStation 4, laptops and phones, and `null`s where
//! live data has them.

use serde_json::{Value, json};

use super::estate::{DeviceKind, Estate, Network, mix};

/// What a client is, which decides most of its fields.
#[derive(Clone, Copy)]
enum Kind {
    Printer,
    PlayStation,
    Laptop,
    Phone,
    Sensor,
}

/// The API's client id: `k` and six hex digits, sorted like the numbers.
pub fn client_id(number: u64) -> String {
    format!("k{number:06x}")
}

/// When the client was last seen; the `timespan` filter needs it before building the record.
pub fn last_seen(seed: u64, number: u64, now: i64) -> i64 {
    now - (mix(seed, &[number, 11]) % 600) as i64
}

/// The client as `GET /networks/{id}/clients` lists it.
pub fn client_json(estate: &Estate, network: &Network, number: u64, now: i64) -> Value {
    let seed = estate.seed;
    let h = mix(seed, &[number, 10]);
    let kind = match h % 20 {
        0 | 1 => Kind::Printer,
        2 => Kind::PlayStation,
        3..=9 => Kind::Laptop,
        10..=17 => Kind::Phone,
        _ => Kind::Sensor,
    };
    let (description, os, manufacturer, wired) = profile(kind, number, h);
    let first_seen = match kind {
        // A quarter of the printers are new: first seen within the last hour.
        Kind::Printer if (h >> 8).is_multiple_of(4) => now - ((h >> 16) % 3000) as i64,
        _ => now - 3600 - ((h >> 16) % (30 * 86_400)) as i64,
    };
    let last_seen = last_seen(seed, number, now);
    let status = if now - last_seen < 300 {
        "Online"
    } else {
        "Offline"
    };
    let vlan = ["1", "100", "200"][(h >> 24) as usize % 3];
    let (serial, device_name, device_mac) = recent_device(estate, network, wired);
    json!({
        "id": client_id(number),
        "mac": format!("00:00:5e:{:02x}:{:02x}:{:02x}", number >> 16 & 0xff, number >> 8 & 0xff, number & 0xff),
        "ip": format!("10.{}.{}.{}", number >> 16 & 0xff, number >> 8 & 0xff, number & 0xff),
        "ip6": if h.is_multiple_of(3) { json!(format!("2001:db8::{number:x}")) } else { Value::Null },
        "description": description,
        "firstSeen": first_seen,
        "lastSeen": last_seen,
        "manufacturer": manufacturer,
        "os": os,
        "user": if matches!(kind, Kind::Laptop) { json!(format!("synthetic.user{number}")) } else { Value::Null },
        "vlan": vlan,
        "ssid": if wired { Value::Null } else { json!("SYNTHETIC-Corp") },
        "switchport": if wired { json!(((h >> 32) % 48 + 1).to_string()) } else { Value::Null },
        "wirelessCapabilities": if wired { Value::Null } else { json!("802.11ax - 2.4 and 5 GHz") },
        "smInstalled": false,
        "recentDeviceMac": device_mac,
        "status": status,
        "usage": {"sent": ((h >> 12) % 100_000) as f64 / 10.0, "recv": ((h >> 28) % 1_000_000) as f64 / 10.0},
        "namedVlan": if vlan == "200" { json!("Guest") } else { Value::Null },
        "adaptivePolicyGroup": null,
        "deviceTypePrediction": null,
        "recentDeviceSerial": serial,
        "recentDeviceName": device_name,
        "recentDeviceConnection": if wired { "Wired" } else { "Wireless" },
        "notes": null,
        "ip6Local": null,
        "groupPolicy8021x": null,
        "pskGroup": null
    })
}

/// (description, os, manufacturer, wired)
fn profile(kind: Kind, number: u64, h: u64) -> (Value, Value, &'static str, bool) {
    match kind {
        Kind::Printer => (
            json!(format!("SYNTHETIC printer {number}")),
            json!("HP JetDirect"),
            "Hewlett Packard",
            true,
        ),
        Kind::PlayStation => (Value::Null, json!("PlayStation 4"), "Sony", false),
        Kind::Laptop => {
            // The maker goes with the system: Macs are Apple's, Windows laptops someone else's.
            let (os, manufacturer) = match h >> 40 & 3 {
                0 | 1 => ("Mac OS X 14.2", "Apple"),
                2 => ("Windows 11", "Dell"),
                _ => ("Windows 11", "Lenovo"),
            };
            (
                json!(format!("SYNTHETIC-laptop-{number}")),
                json!(os),
                manufacturer,
                h.is_multiple_of(5),
            )
        }
        Kind::Phone => {
            let (os, manufacturer) = match h >> 40 & 3 {
                0 | 1 => ("iOS", "Apple"),
                2 => ("Android", "Samsung"),
                _ => ("Android", "Google"),
            };
            (
                json!(format!("SYNTHETIC-phone-{number}")),
                json!(os),
                manufacturer,
                false,
            )
        }
        Kind::Sensor => (Value::Null, Value::Null, "Espressif", false),
    }
}

/// Wired clients hang off the appliance when there is one, wireless ones off the access point.
fn recent_device(estate: &Estate, network: &Network, wired: bool) -> (Value, Value, Value) {
    let wanted = |kind: &DeviceKind| {
        if wired {
            matches!(kind, DeviceKind::Appliance(_))
        } else {
            matches!(kind, DeviceKind::AccessPoint)
        }
    };
    let device = network
        .devices
        .iter()
        .map(|d| &estate.devices[*d])
        .find(|d| wanted(&d.kind))
        .or_else(|| network.devices.first().map(|d| &estate.devices[*d]));
    match device {
        Some(device) => (
            json!(device.serial),
            estate.device_json(device, false)["name"].clone(),
            json!(super::estate::device_mac(device.number)),
        ),
        None => (Value::Null, Value::Null, Value::Null),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meraki::sim::estate::EstateSize;

    #[test]
    fn every_system_runs_on_hardware_of_a_maker_that_ships_it() {
        let size = EstateSize {
            orgs: 1,
            networks: 1,
            devices: 1,
            clients: 1,
        };
        let estate = Estate::generate(3, size).expect("valid");
        let network = &estate.networks[0];
        let mut pairs = std::collections::BTreeSet::new();
        for number in 0..2000 {
            let client = client_json(&estate, network, number, 1_800_000_000);
            let os = client["os"].as_str().unwrap_or("none").to_owned();
            let maker = client["manufacturer"].as_str().expect("a maker").to_owned();
            pairs.insert((os, maker));
        }
        let allowed = |os: &str, maker: &str| match os {
            "iOS" | "Mac OS X 14.2" => maker == "Apple",
            "Android" => ["Samsung", "Google"].contains(&maker),
            "Windows 11" => ["Dell", "Lenovo"].contains(&maker),
            "HP JetDirect" => maker == "Hewlett Packard",
            "PlayStation 4" => maker == "Sony",
            _ => maker == "Espressif",
        };
        for (os, maker) in &pairs {
            assert!(allowed(os, maker), "{maker} running {os}");
        }
        // Every combination appears, so the test sees the whole mix.
        assert_eq!(pairs.len(), 9, "{pairs:?}");
    }

    #[test]
    fn ids_sort_like_numbers() {
        assert_eq!(client_id(255), "k0000ff");
        assert!(client_id(9) < client_id(10) && client_id(15) < client_id(16));
    }

    #[test]
    fn some_printers_are_new_and_look_like_printers() {
        let size = EstateSize {
            orgs: 1,
            networks: 1,
            devices: 1,
            clients: 400,
        };
        let estate = Estate::generate(1, size).expect("valid");
        let network = &estate.networks[0];
        let now = 1_768_471_200;
        let clients: Vec<Value> = network
            .clients
            .clone()
            .map(|n| client_json(&estate, network, n, now))
            .collect();
        let new_printers = clients.iter().filter(|c| {
            c["os"] == "HP JetDirect" && c["firstSeen"].as_i64().is_some_and(|t| t >= now - 3600)
        });
        assert!(new_printers.count() > 0);
        assert!(clients.iter().any(|c| c["os"] == "PlayStation 4"));
        assert!(clients.iter().any(|c| c["description"].is_null()));
    }
}
