//! Generated silences files (ranges and weekly windows, per docs/silences.md) and event lines for
//! `rules test` (plain objects and the `{"event", "meta"}` wrapper with good and bad timestamps and
//! origins). Values come from [`super::grammar`]; rulebooks are [`super::rulebook`]'s.

use serde_json::{Value, json};

use super::Rng;
use super::grammar::{FIRING_ROOTS, end_time, expr, json_value, template, time};
use super::rulebook::name;
use super::yaml::{self, Yaml};

/// A silences file's text.
pub fn silences(rng: &mut Rng) -> String {
    let entries = (0..rng.between(0, 3)).map(|i| silence(rng, i)).collect();
    yaml::render(rng, &Yaml::Seq(entries))
}

fn silence(rng: &mut Rng, index: usize) -> Yaml {
    let mut entries = vec![
        ("id", name(rng, "s", index)),
        ("matcher", Yaml::quoted(expr(rng, &FIRING_ROOTS, 2))),
    ];
    if rng.one_in(2) {
        entries.push(("starts_at", Yaml::quoted(time(rng))));
    }
    let weekly = rng.one_in(4);
    if weekly {
        let (from, to) = *rng.choose(
            &[("22:00", "02:00"), ("00:00", "24:00"), ("09:00", "17:30")],
            &[("22:00", "22:00"), ("24:00", "9:5"), ("23:59:60", "1:00")],
        );
        let days = *rng.choose(&["[sat]", "[sat, sun]", "weekdays"], &["[]", "[funday]"]);
        let zone = *rng.choose(
            &["Europe/Zurich", "UTC", "America/Sao_Paulo"],
            &["Mars/Olympus"],
        );
        let every = Yaml::map(vec![
            ("days", Yaml::plain(days)),
            ("from", Yaml::quoted(from)),
            ("to", Yaml::quoted(to)),
            ("timezone", Yaml::plain(zone)),
        ]);
        entries.push(("every", every));
    }
    // `ends_at` is required without `every`.
    let needs_end = !weekly;
    if needs_end != rng.mischief() || rng.one_in(4) {
        entries.push(("ends_at", Yaml::quoted(end_time(rng))));
    }
    if rng.one_in(3) {
        entries.push(("comment", Yaml::quoted(template(rng))));
    }
    Yaml::map(entries)
}

/// Event lines for `rules test`: JSON objects, some wrapped with `meta`, with time moving on.
pub fn event_lines(rng: &mut Rng) -> Vec<u8> {
    let mut clock = 1_768_470_900_000_i64;
    let mut out = Vec::new();
    for _ in 0..rng.between(1, 12) {
        clock += *rng.pick(&[0, 1_000, 60_000, 600_000, -60_000]);
        out.extend_from_slice(event_line(rng, clock).as_bytes());
        out.push(b'\n');
    }
    out
}

fn event_line(rng: &mut Rng, clock: i64) -> String {
    let mut event = json_value(rng, 3);
    if !event.is_object() || rng.one_in(2) {
        event = json!({
            "a": rng.below(10), "n": rng.below(200), "s": "down", "serial": *rng.pick(&["Q2AB-1234", "Q2CD-5678"]),
            "uplink": *rng.pick(&["wan1", "wan2"]), "lossPercent": *rng.pick(&[0.0, 2.5, 7.0, 100.0]),
            "list": [1, 2, 3], "obj": {"x": 1}, "x.y": true,
        });
    }
    if rng.one_in(3) {
        return event.to_string();
    }
    let timestamp = match rng.below(6) {
        0 => json!(time(rng)),
        1 => rng
            .pick(&[
                json!(i64::MAX),
                json!(i64::MIN),
                json!(1e300),
                json!(-1),
                json!("soon"),
            ])
            .clone(),
        _ => json!(clock),
    };
    let mut meta = json!({"timestamp": timestamp, "key": "k"});
    if rng.one_in(3) {
        meta["topic"] = json!(*rng.pick(&["t1", "t2", "other"]));
        meta["partition"] = rng
            .pick(&[json!(0), json!(2_147_483_648_i64), json!(-1)])
            .clone();
        let offset = rng.below(100);
        meta["offset"] = rng
            .pick(&[json!(offset), json!(i64::MAX), json!(-5)])
            .clone();
    }
    let wrapped: Value = json!({"event": event, "meta": meta});
    wrapped.to_string()
}
