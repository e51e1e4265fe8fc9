//! Generated rulebooks: rulesets with sources, vars and inhibit, and rules with single and
//! multi-event conditions, throttles, every window form and the actions of [`super::actions`].
//! The shapes follow docs/rulebooks.md; with [`Rng::mischief`] at 0 the rulebook is valid, so its
//! rules reach the engine.

use super::Rng;
use super::actions::action;
use super::grammar::{CONDITION_ROOTS, FIRING_ROOTS, duration, expr, json_value};
use super::yaml::{self, Yaml};

/// A rulebook's text.
pub fn rulebook(rng: &mut Rng) -> String {
    let rulesets = (0..rng.between(1, 3)).map(|i| ruleset(rng, i)).collect();
    yaml::render(rng, &Yaml::Seq(rulesets))
}

/// `{prefix}{index}`, or (mischief) a duplicate of the first name.
pub fn name(rng: &mut Rng, prefix: &str, index: usize) -> Yaml {
    let index = if rng.mischief() { 0 } else { index };
    Yaml::quoted(format!("{prefix}{index}"))
}

/// Makes the value of an optional key.
type MakeValue = fn(&mut Rng) -> Yaml;

fn ruleset(rng: &mut Rng, index: usize) -> Yaml {
    let mut entries = vec![("name", name(rng, "rs", index))];
    if rng.one_in(2) {
        entries.push(("sources", Yaml::Seq(vec![source(rng)])));
    }
    if rng.one_in(2) {
        entries.push(("vars", vars(rng)));
    }
    let count = rng.between(1, 4);
    entries.push((
        "rules",
        Yaml::Seq((0..count).map(|i| rule(rng, i)).collect()),
    ));
    let optional: [(&str, MakeValue); 4] = [
        ("match_multiple_rules", |rng| {
            Yaml::plain(*rng.choose(&["true", "false"], &["yes", "1"]))
        }),
        ("default_events_ttl", |rng| Yaml::plain(duration(rng))),
        ("execution_strategy", |rng| {
            Yaml::plain(*rng.choose(&["sequential", "parallel"], &["random"]))
        }),
        ("hosts", |rng| {
            Yaml::plain(*rng.choose(&["all", "[web, db]"], &["{}"]))
        }),
    ];
    for (key, make) in optional {
        if rng.one_in(4) {
            entries.push((key, make(rng)));
        }
    }
    if rng.one_in(4) && (count > 1 || rng.mischief()) {
        entries.push(("inhibit", Yaml::Seq(vec![inhibit(rng, count)])));
    }
    Yaml::map(entries)
}

fn source(rng: &mut Rng) -> Yaml {
    let mut kafka = vec![if rng.one_in(3) {
        ("topics", Yaml::plain("[t1, t2]"))
    } else {
        ("topic", Yaml::plain("t1"))
    }];
    kafka.push(("group_id", Yaml::plain("fuzz")));
    if rng.one_in(2) {
        let offset = *rng.choose(&["earliest", "latest"], &["middle", "5"]);
        kafka.push(("offset", Yaml::plain(offset)));
    }
    if rng.one_in(4) {
        let field = *rng.choose(&["list", "obj"], &["event.list[*]", ""]);
        kafka.push(("split_on", Yaml::quoted(field)));
    }
    Yaml::map(vec![("kafka", Yaml::map(kafka))])
}

fn vars(rng: &mut Rng) -> Yaml {
    let nested = json_value(rng, 3).to_string();
    Yaml::map(vec![
        (
            "limit",
            Yaml::plain(*rng.choose(&["5", "0.5", "-1", "'5'"], &["1e400", ".nan"])),
        ),
        ("loss_pct", Yaml::plain("5")),
        ("nested", Yaml::plain(nested)),
    ])
}

fn inhibit(rng: &mut Rng, rules: usize) -> Yaml {
    // A rule cannot inhibit itself: the target is another one, unless (mischief) it is not.
    let source = rng.below(rules);
    let target = if rules > 1 && !rng.mischief() {
        (source + rng.between(1, rules - 1)) % rules
    } else {
        source
    };
    let mut entries = vec![
        ("source", name(rng, "r", source)),
        ("targets", Yaml::Seq(vec![name(rng, "r", target)])),
    ];
    if rng.one_in(2) {
        let equal = Yaml::quoted(expr(rng, &FIRING_ROOTS, 1));
        entries.push(("equal", Yaml::Seq(vec![equal])));
    }
    if rng.one_in(2) {
        entries.push(("for", Yaml::plain(duration(rng))));
    }
    Yaml::map(entries)
}

fn rule(rng: &mut Rng, index: usize) -> Yaml {
    let (condition, single) = condition(rng);
    let mut entries = vec![("name", name(rng, "r", index)), ("condition", condition)];
    if rng.one_in(3) {
        entries.push(("action", action(rng)));
    } else {
        let actions = (0..rng.between(1, 3)).map(|_| action(rng)).collect();
        entries.push(("actions", Yaml::Seq(actions)));
    }
    // Throttles and windows go with single conditions only, and a window only with a plain
    // `once_within` throttle.
    let stateful = single || rng.mischief();
    let with_window = stateful && rng.one_in(3);
    if with_window {
        let (window, resolve_roots) = window(rng);
        entries.push(("window", window));
        if rng.one_in(2) && (!resolve_roots.is_empty() || rng.mischief()) {
            let roots = if resolve_roots.is_empty() {
                &["window.avg"][..]
            } else {
                resolve_roots
            };
            entries.push(("resolve_when", Yaml::quoted(expr(rng, roots, 2))));
        }
    }
    if stateful && rng.one_in(4) {
        let throttle = if with_window && !rng.mischief() {
            Yaml::map(vec![("once_within", Yaml::plain(duration(rng)))])
        } else {
            throttle(rng)
        };
        entries.push(("throttle", throttle));
    }
    if rng.one_in(8) {
        let keys = *rng.choose(&["1", "3", "100000"], &["0", "-1", "18446744073709551615"]);
        entries.push(("max_keys", Yaml::plain(keys)));
    }
    if rng.one_in(10) {
        entries.push(("enabled", Yaml::plain("false")));
    }
    Yaml::map(entries)
}

/// A condition and whether it is a single one.
fn condition(rng: &mut Rng) -> (Yaml, bool) {
    match rng.below(10) {
        0 => (
            Yaml::plain(*rng.choose(&["true", "false"], &["1", "null"])),
            true,
        ),
        1 | 2 => {
            let kind = *rng.pick(&["all", "any", "not_all"]);
            let parts = (0..rng.between(1, 3))
                .map(|_| Yaml::quoted(expr(rng, &CONDITION_ROOTS, 2)))
                .collect();
            let mut entries = vec![(kind, Yaml::Seq(parts))];
            // `not_all` needs a timeout.
            if (kind == "not_all") != rng.mischief() || rng.one_in(2) {
                entries.push(("timeout", Yaml::plain(duration(rng))));
            }
            (Yaml::map(entries), false)
        }
        _ => (Yaml::quoted(expr(rng, &CONDITION_ROOTS, 3)), true),
    }
}

fn group_by(rng: &mut Rng) -> Yaml {
    let keys = (0..rng.below(3))
        .map(|_| Yaml::quoted(expr(rng, &["event", "meta"], 1)))
        .collect();
    Yaml::Seq(keys)
}

fn throttle(rng: &mut Rng) -> Yaml {
    let mode = *rng.pick(&[
        "once_within",
        "once_after",
        "group_after",
        "accumulate_within",
    ]);
    let mut entries = vec![(mode, Yaml::plain(duration(rng)))];
    if (mode == "accumulate_within") != rng.mischief() {
        let threshold = *rng.choose(&["1", "3"], &["0", "-2", "1e9"]);
        entries.push(("threshold", Yaml::plain(threshold)));
    }
    let key = if rng.one_in(5) {
        "group_by_attributes"
    } else {
        "group_by"
    };
    entries.push((key, group_by(rng)));
    Yaml::map(entries)
}

/// A window of one of the four forms, and the roots its `fire_when`/`resolve_when` may read
/// (none: the form takes no `resolve_when`).
fn window(rng: &mut Rng) -> (Yaml, &'static [&'static str]) {
    const THRESHOLD: [&str; 5] = ["window.count", "window.avg", "window.max", "event", "vars"];
    const COUNT: [&str; 3] = ["window.count", "event", "vars"];
    const CHANGE: [&str; 4] = [
        "window.changes",
        "window.previous",
        "window.current",
        "event",
    ];
    const SPIKE: [&str; 3] = ["window.ratio", "window.baseline", "window.count"];
    let mut entries = vec![("group_by", group_by(rng))];
    let roots: &'static [&'static str] = match rng.below(5) {
        0 => {
            entries.push(("absent_for", Yaml::plain(duration(rng))));
            &[]
        }
        1 => {
            entries.push(("change", Yaml::quoted(expr(rng, &["event"], 1))));
            if rng.one_in(2) {
                entries.push(("size", Yaml::plain(duration(rng))));
                entries.push(("fire_when", Yaml::quoted(expr(rng, &CHANGE, 2))));
            }
            &CHANGE
        }
        2 => {
            entries.push(("size", Yaml::plain(duration(rng))));
            let factor = *rng.choose(&["2", "3", "1.5"], &["0", "-1", ".nan", "1e400"]);
            let direction = *rng.choose(&["up", "down"], &["sideways"]);
            let spike = format!("{{factor: {factor}, direction: {direction}}}");
            entries.push(("spike", Yaml::plain(spike)));
            &SPIKE
        }
        _ => {
            entries.push(("size", Yaml::plain(duration(rng))));
            // The aggregates (avg, max, ...) are there only with a `value`.
            let roots: &'static [&'static str] = if rng.one_in(2) {
                entries.push(("value", Yaml::quoted(expr(rng, &["event"], 1))));
                &THRESHOLD
            } else {
                &COUNT
            };
            entries.push(("fire_when", Yaml::quoted(expr(rng, roots, 2))));
            roots
        }
    };
    (Yaml::map(entries), roots)
}
