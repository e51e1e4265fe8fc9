//! Uplink loss and latency of simulated appliances, a pure function of the seed, the device, the
//! uplink, the probe destination and the minute, so that every call agrees with every other.
//! Normal minutes show a steady latency with a little noise and no loss; incidents last a
//! ten-minute window (each device's windows shifted by its own minute) and are what the shipped rulebooks look for: the whole site slow (every
//! uplink above 150 ms), loss on one uplink (above 5 %), or an outage (100 % loss, no latency).
//! About one point in forty is `null`, as live data has.

use super::estate::mix;

/// Minutes per incident window.
const WINDOW_MINUTES: i64 = 10;

/// The uplinks of an appliance: always `wan1`, often `wan2`, sometimes `cellular`.
pub fn uplinks(seed: u64, device: u64) -> Vec<&'static str> {
    let h = mix(seed, &[device, 1]);
    let mut uplinks = vec!["wan1"];
    if h % 10 < 6 {
        uplinks.push("wan2");
    }
    if h % 10 == 9 {
        uplinks.push("cellular");
    }
    uplinks
}

/// Probe destinations of one uplink: 8.8.8.8 for all, plus a second one on `wan1`.
pub fn destinations(seed: u64, device: u64, uplink: &str) -> Vec<String> {
    let mut ips = vec!["8.8.8.8".to_owned()];
    if uplink == "wan1" {
        ips.push(format!("203.0.113.{}", 1 + mix(seed, &[device, 2]) % 254));
    }
    ips
}

/// One measurement: `(lossPercent, latencyMs)`, either of which may be `null`.
pub type Sample = (Option<f64>, Option<f64>);

/// The measurement of one minute (minutes since the Unix epoch).
pub fn sample(seed: u64, device: u64, uplink: &str, ip: &str, minute: i64) -> Sample {
    let series = series_id(uplink, ip);
    let point = mix(seed, &[device, series, minute as u64]);
    if point.is_multiple_of(40) {
        return (None, None);
    }
    let base = 8.0 + (mix(seed, &[device, series]) % 40) as f64 + uplink_offset(uplink);
    let noise = 1.0 + ((point >> 8) % 1000) as f64 / 5000.0 - 0.1;
    let latency = base * noise;
    // Each device's windows start at its own minute, so that incidents begin one after the other
    // rather than all on the same ten-minute boundary.
    let phase = (mix(seed, &[device, 4]) % WINDOW_MINUTES as u64) as i64;
    let window = (minute + phase).div_euclid(WINDOW_MINUTES);
    let incident = mix(seed, &[device, 3, window as u64]) % 100;
    let hit_uplink = uplink_index(uplink) == (incident / 10) % 2;
    match incident {
        0..=4 => (Some(0.0), Some(round(180.0 + latency * 4.0))),
        5..=9 if hit_uplink => (
            Some(round(8.0 + ((point >> 20) % 320) as f64 / 10.0)),
            Some(round(latency + 50.0)),
        ),
        10..=11 if uplink == "wan1" => (Some(100.0), None),
        _ => {
            let loss = if (point >> 40).is_multiple_of(20) {
                round(((point >> 44) % 20) as f64 / 10.0)
            } else {
                0.0
            };
            (Some(loss), Some(round(latency)))
        }
    }
}

/// `goodput` (kbps) and `jitter` (ms) of the per-device history, `null` when there is no latency.
pub fn goodput_and_jitter(
    seed: u64,
    device: u64,
    minute: i64,
    latency: Option<f64>,
) -> (Option<u64>, Option<f64>) {
    let Some(latency) = latency else {
        return (None, None);
    };
    let goodput = 2000 + mix(seed, &[device, 4, minute as u64]) % 8000;
    (Some(goodput), Some(round(latency * 0.05)))
}

fn series_id(uplink: &str, ip: &str) -> u64 {
    let text = format!("{uplink}/{ip}");
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn uplink_offset(uplink: &str) -> f64 {
    match uplink {
        "wan2" => 15.0,
        "cellular" => 45.0,
        _ => 0.0,
    }
}

fn uplink_index(uplink: &str) -> u64 {
    u64::from(uplink != "wan1")
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_deterministic_and_in_range() {
        for minute in 0..500 {
            let a = sample(1, 7, "wan1", "8.8.8.8", minute);
            assert_eq!(a, sample(1, 7, "wan1", "8.8.8.8", minute));
            if let (Some(loss), latency) = a {
                assert!((0.0..=100.0).contains(&loss));
                assert!(latency.is_none_or(|ms| ms > 0.0));
            }
        }
    }

    #[test]
    fn incidents_trip_the_shipped_rulebook_thresholds() {
        let samples: Vec<Sample> = (0..50)
            .flat_map(|device| {
                (0..600).map(move |minute| sample(3, device, "wan1", "8.8.8.8", minute))
            })
            .collect();
        assert!(
            samples
                .iter()
                .any(|(loss, _)| loss.is_some_and(|l| l > 5.0 && l < 100.0)),
            "loss"
        );
        assert!(
            samples
                .iter()
                .any(|(_, latency)| latency.is_some_and(|ms| ms > 150.0)),
            "latency"
        );
        assert!(samples.contains(&(Some(100.0), None)), "outage");
        assert!(samples.contains(&(None, None)), "null points");
        let normal = samples
            .iter()
            .filter(|(loss, _)| *loss == Some(0.0))
            .count();
        assert!(normal > samples.len() / 2, "incidents are the exception");
    }

    #[test]
    fn incidents_of_different_devices_begin_at_different_minutes() {
        let troubled = |device, minute| match sample(2, device, "wan1", "8.8.8.8", minute) {
            (Some(loss), latency) => loss > 5.0 || latency.is_some_and(|ms| ms > 150.0),
            (None, _) => false,
        };
        let onsets: std::collections::BTreeSet<i64> = (0..100)
            .flat_map(|device| {
                // A point without data inside an incident is no new onset: look three minutes back.
                (3..600)
                    .filter(move |m| {
                        troubled(device, *m) && (1..=3).all(|b| !troubled(device, m - b))
                    })
                    .map(|m| m % WINDOW_MINUTES)
            })
            .collect();
        assert!(
            onsets.len() >= 8,
            "onsets only at minutes {onsets:?} of ten"
        );
    }

    #[test]
    fn a_site_incident_slows_both_uplinks_at_once() {
        let both = (0..100).any(|device| {
            (0..600).any(|minute| {
                let slow = |uplink| {
                    sample(5, device, uplink, "8.8.8.8", minute)
                        .1
                        .is_some_and(|ms| ms > 150.0)
                };
                slow("wan1") && slow("wan2")
            })
        });
        assert!(both);
    }
}
