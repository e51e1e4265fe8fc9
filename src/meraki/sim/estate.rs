//! The simulated estate: organizations, networks and devices generated from a seed and a size, held
//! in memory (tens of thousands of small entries at the largest), with lookups by id. Organizations
//! own contiguous blocks of networks; every tenth network is camera-only, every tenth a combined
//! (`L_`) network; appliances and clients are spread evenly over the networks that can have them.
//! Clients and measurements are not stored: `people` and `series` compute them on demand.

use std::collections::HashMap;
use std::ops::Range;

use serde_json::{Value, json};

use super::SimError;

/// Appliance models handed out in turn (all `productType: appliance`).
const APPLIANCE_MODELS: [&str; 7] = ["MX64", "MX67", "MX68", "MX75", "MX85", "MX95", "Z4"];
/// Largest client count: ids are `k` plus six hex digits.
pub const MAX_CLIENTS: u64 = 0xff_ffff;
/// Largest device count: serials are `Q2XX-NNNN-NNNN`.
pub const MAX_DEVICES: u64 = 99_999_999;

/// How big the estate is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EstateSize {
    pub orgs: u64,
    pub networks: u64,
    /// Appliances (MX and Z); every network also gets one access point or camera.
    pub devices: u64,
    pub clients: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkKind {
    /// appliance, switch, wireless
    Branch,
    /// an `L_` network: appliance, camera, switch, wireless
    Combined,
    /// camera only: no clients, no appliances
    CameraOnly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    Appliance(&'static str),
    AccessPoint,
    Camera,
}

pub struct Org {
    pub id: String,
    pub name: String,
    /// Indexes into `Estate::networks`, sorted by network id.
    pub networks: Vec<usize>,
    /// Indexes into `Estate::devices`, sorted by serial.
    pub devices: Vec<usize>,
}

pub struct Network {
    pub id: String,
    pub org: usize,
    pub name: String,
    pub kind: NetworkKind,
    /// Global client numbers of this network's clients.
    pub clients: Range<u64>,
    pub devices: Vec<usize>,
}

pub struct Device {
    /// Global device number, the seed of everything about it.
    pub number: u64,
    pub serial: String,
    pub network: usize,
    pub org: usize,
    pub kind: DeviceKind,
}

pub struct Estate {
    pub seed: u64,
    pub orgs: Vec<Org>,
    pub networks: Vec<Network>,
    pub devices: Vec<Device>,
    org_ids: HashMap<String, usize>,
    network_ids: HashMap<String, usize>,
    serials: HashMap<String, usize>,
}

/// A well-mixed 64-bit hash of the seed and some numbers (SplitMix64 steps).
pub fn mix(seed: u64, parts: &[u64]) -> u64 {
    let mut state = seed;
    for part in parts {
        state = splitmix(state ^ part.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    }
    splitmix(state)
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Item `index` of `count` spread evenly over `buckets`: the bucket's share is `[b*count/buckets,
/// (b+1)*count/buckets)`.
fn share(bucket: u64, buckets: u64, count: u64) -> Range<u64> {
    (bucket * count / buckets)..((bucket + 1) * count / buckets)
}

impl Estate {
    pub fn generate(seed: u64, size: EstateSize) -> Result<Self, SimError> {
        validate(size)?;
        let mut estate = Self {
            seed,
            orgs: Vec::new(),
            networks: Vec::new(),
            devices: Vec::new(),
            org_ids: HashMap::new(),
            network_ids: HashMap::new(),
            serials: HashMap::new(),
        };
        for o in 0..size.orgs {
            estate.orgs.push(Org {
                id: (500_000 + o).to_string(),
                name: format!("SYNTHETIC Org {}", o + 1),
                networks: Vec::new(),
                devices: Vec::new(),
            });
        }
        estate.add_networks(size);
        estate.add_devices(size);
        estate.index();
        Ok(estate)
    }

    fn add_networks(&mut self, size: EstateSize) {
        let regular =
            (0..size.networks).filter(|j| kind_of(*j, size.networks) != NetworkKind::CameraOnly);
        let regular: Vec<u64> = regular.collect();
        let regular_count = regular.len() as u64;
        let mut clients_of = HashMap::new();
        for (r, j) in regular.iter().enumerate() {
            clients_of.insert(*j, share(r as u64, regular_count, size.clients));
        }
        for o in 0..size.orgs {
            for j in share(o, size.orgs, size.networks) {
                let kind = kind_of(j, size.networks);
                let prefix = if kind == NetworkKind::Combined {
                    "L"
                } else {
                    "N"
                };
                self.orgs[o as usize].networks.push(self.networks.len());
                self.networks.push(Network {
                    id: format!("{prefix}_{:010}", 600_000_000 + j),
                    org: o as usize,
                    name: format!("SYNTHETIC Branch {:04}", j + 1),
                    kind,
                    clients: clients_of.remove(&j).unwrap_or(0..0),
                    devices: Vec::new(),
                });
            }
        }
    }

    fn add_devices(&mut self, size: EstateSize) {
        let regular: Vec<usize> = (0..self.networks.len())
            .filter(|n| self.networks[*n].kind != NetworkKind::CameraOnly)
            .collect();
        let mut appliances_of = vec![0..0; self.networks.len()];
        for (r, n) in regular.iter().enumerate() {
            appliances_of[*n] = share(r as u64, regular.len() as u64, size.devices);
        }
        for (n, appliances) in appliances_of.into_iter().enumerate() {
            for number in appliances {
                let model = APPLIANCE_MODELS[(mix(self.seed, &[number]) % 7) as usize];
                self.push_device(n, DeviceKind::Appliance(model));
            }
            let extra = match self.networks[n].kind {
                NetworkKind::CameraOnly => DeviceKind::Camera,
                NetworkKind::Branch | NetworkKind::Combined => DeviceKind::AccessPoint,
            };
            self.push_device(n, extra);
        }
    }

    fn push_device(&mut self, network: usize, kind: DeviceKind) {
        let number = self.devices.len() as u64;
        let org = self.networks[network].org;
        self.networks[network].devices.push(self.devices.len());
        self.orgs[org].devices.push(self.devices.len());
        self.devices.push(Device {
            number,
            serial: format!("Q2XX-{:04}-{:04}", number / 10_000, number % 10_000),
            network,
            org,
            kind,
        });
    }

    fn index(&mut self) {
        for (i, org) in self.orgs.iter().enumerate() {
            self.org_ids.insert(org.id.clone(), i);
        }
        for (i, network) in self.networks.iter().enumerate() {
            self.network_ids.insert(network.id.clone(), i);
        }
        for (i, device) in self.devices.iter().enumerate() {
            self.serials.insert(device.serial.clone(), i);
        }
        let networks = &self.networks;
        for org in &mut self.orgs {
            org.networks
                .sort_by(|a, b| networks[*a].id.cmp(&networks[*b].id));
        }
    }

    pub fn org(&self, id: &str) -> Option<usize> {
        self.org_ids.get(id).copied()
    }

    pub fn network(&self, id: &str) -> Option<usize> {
        self.network_ids.get(id).copied()
    }

    pub fn device(&self, serial: &str) -> Option<usize> {
        self.serials.get(serial).copied()
    }

    pub fn org_json(&self, org: &Org) -> Value {
        json!({
            "id": org.id, "name": org.name,
            "url": format!("https://dashboard.meraki.com/o/SYNTH{}/manage/organization/overview", org.id),
            "api": {"enabled": true}, "licensing": {"model": "co-term"},
            "cloud": {"region": {"name": "North America", "host": {"name": "United States"}}},
            "management": {"details": []}
        })
    }

    pub fn network_json(&self, network: &Network) -> Value {
        json!({
            "id": network.id, "organizationId": self.orgs[network.org].id, "name": network.name,
            "productTypes": product_types(network.kind), "timeZone": "America/Los_Angeles",
            "tags": ["synthetic"], "enrollmentString": null,
            "url": format!("https://n1.meraki.com/{}/manage/usage/list", network.id),
            "notes": "SYNTHETIC test network", "isBoundToConfigTemplate": false
        })
    }

    /// A device as `organizations/{id}/devices` lists it; the deprecated per-network call omits
    /// `productType` and `imei`.
    pub fn device_json(&self, device: &Device, with_product_type: bool) -> Value {
        let (model, product, name) = match device.kind {
            DeviceKind::Appliance(model) => (
                model,
                "appliance",
                format!("SYNTHETIC MX {}", device.number),
            ),
            DeviceKind::AccessPoint => (
                "MR36",
                "wireless",
                format!("SYNTHETIC AP {}", device.number),
            ),
            DeviceKind::Camera => (
                "MV12W",
                "camera",
                format!("SYNTHETIC Camera {}", device.number),
            ),
        };
        let lan_ip = match device.kind {
            // Live MX rows have no LAN IP.
            DeviceKind::Appliance(_) => Value::Null,
            _ => json!(format!(
                "10.{}.{}.{}",
                device.number >> 16 & 0xff,
                device.number >> 8 & 0xff,
                device.number & 0xff
            )),
        };
        let mut value = json!({
            "name": name, "lat": 37.418095, "lng": -122.098531, "address": "", "notes": "",
            "tags": ["synthetic"], "networkId": self.networks[device.network].id,
            "serial": device.serial, "model": model, "mac": device_mac(device.number),
            "lanIp": lan_ip, "firmware": "synthetic-1-0", "details": []
        });
        if with_product_type {
            value["productType"] = json!(product);
            value["imei"] = Value::Null;
        }
        value
    }
}

pub fn product_types(kind: NetworkKind) -> Vec<&'static str> {
    match kind {
        NetworkKind::Branch => vec!["appliance", "switch", "wireless"],
        NetworkKind::Combined => vec!["appliance", "camera", "switch", "wireless"],
        NetworkKind::CameraOnly => vec!["camera"],
    }
}

fn kind_of(j: u64, networks: u64) -> NetworkKind {
    match (networks >= 10, j % 10) {
        (true, 9) => NetworkKind::CameraOnly,
        (true, 4) => NetworkKind::Combined,
        _ => NetworkKind::Branch,
    }
}

/// Locally administered, so never a real vendor's.
pub fn device_mac(number: u64) -> String {
    format!(
        "02:00:{:02x}:{:02x}:{:02x}:{:02x}",
        number >> 24 & 0xff,
        number >> 16 & 0xff,
        number >> 8 & 0xff,
        number & 0xff
    )
}

fn validate(size: EstateSize) -> Result<(), SimError> {
    let invalid = |reason: String| Err(SimError::Size(reason));
    if size.orgs == 0 {
        return invalid("--orgs must be at least 1".into());
    }
    if size.clients > MAX_CLIENTS {
        return invalid(format!("--clients is at most {MAX_CLIENTS}"));
    }
    if size.devices + size.networks > MAX_DEVICES {
        return invalid(format!(
            "--devices plus --networks is at most {MAX_DEVICES}"
        ));
    }
    if size.networks == 0 && (size.devices > 0 || size.clients > 0) {
        return invalid("devices and clients need at least one network (--networks)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(orgs: u64, networks: u64, devices: u64, clients: u64) -> EstateSize {
        EstateSize {
            orgs,
            networks,
            devices,
            clients,
        }
    }

    #[test]
    fn sizes_are_met_exactly_and_spread_evenly() {
        let estate = Estate::generate(7, size(3, 20, 36, 1000)).expect("valid size");
        assert_eq!(estate.orgs.len(), 3);
        assert_eq!(estate.networks.len(), 20);
        let appliances = estate
            .devices
            .iter()
            .filter(|d| matches!(d.kind, DeviceKind::Appliance(_)));
        assert_eq!(appliances.count(), 36);
        let clients: u64 = estate
            .networks
            .iter()
            .map(|n| n.clients.end - n.clients.start)
            .sum();
        assert_eq!(clients, 1000);
        let camera_only: Vec<&Network> = estate
            .networks
            .iter()
            .filter(|n| n.kind == NetworkKind::CameraOnly)
            .collect();
        assert_eq!(camera_only.len(), 2);
        assert!(camera_only.iter().all(|n| n.clients.is_empty()));
    }

    #[test]
    fn the_same_seed_gives_the_same_estate() {
        let a = Estate::generate(7, size(2, 10, 10, 10)).expect("valid");
        let b = Estate::generate(7, size(2, 10, 10, 10)).expect("valid");
        let models = |e: &Estate| e.devices.iter().map(|d| d.kind).collect::<Vec<_>>();
        assert_eq!(models(&a), models(&b));
        assert!(Estate::generate(7, size(0, 1, 1, 1)).is_err());
    }
}
