//! The fragments generated documents are made of: JMESPath expressions (from a grammar of paths,
//! literals, comparisons, functions, filters, projections and pipes, sometimes nested at or past
//! the expression limits), Jinja templates, durations, times and plain values. Each choice has
//! valid options and wrong ones (the ways people get it wrong, and extremes); the wrong ones are
//! taken as often as [`Rng::mischief`] says.

use super::Rng;

/// Field names the generated events carry, so that generated conditions sometimes match.
pub const FIELDS: [&str; 10] = [
    "a",
    "b",
    "n",
    "s",
    "serial",
    "uplink",
    "lossPercent",
    "list",
    "obj",
    "\"x.y\"",
];

/// The roots of a rule's condition document.
pub const CONDITION_ROOTS: [&str; 5] = ["event", "meta", "vars", "facts", "events.m_0"];
/// The roots of the firing document (silence matchers, inhibit `equal`).
pub const FIRING_ROOTS: [&str; 6] = ["ruleset", "rule", "event", "events", "vars", "status"];

const COMPARISONS: [&str; 6] = ["==", "!=", "<", "<=", ">", ">="];
const LITERALS: [&str; 14] = [
    "`5`",
    "`0`",
    "`-1.5`",
    "`true`",
    "`null`",
    "`\"q\"`",
    "`[1, 2]`",
    "`{\"k\": 1}`",
    "'down'",
    "'wan1'",
    "''",
    "'\\''",
    "'é🦀\u{202e}'",
    "now()",
];
const BAD_LITERALS: [&str; 4] = ["`1e400`", "`99999999999999999999999`", "5", "\"down\""];
const PATTERNS: [&str; 5] = ["'MX6[0-9]'", "'^a.*'", "'(a+)+$'", "'\\p{Greek}'", "''"];
const BAD_PATTERNS: [&str; 3] = ["'('", "'a{1000}{1000}'", "'[z-a]'"];
const CIDRS: [&str; 3] = ["'10.0.0.0/8'", "'::/0'", "'192.168.1.0/24'"];
const BAD_CIDRS: [&str; 3] = ["'1.2.3.4/99'", "'fe80::1%eth0/64'", "'nope'"];

/// A JMESPath expression over `roots`, at most `depth` levels of the grammar deep; one in 40 is
/// at or past the expression limits.
pub fn expr(rng: &mut Rng, roots: &[&str], depth: usize) -> String {
    if rng.one_in(40) {
        extreme_expr(rng, roots)
    } else {
        sub_expr(rng, roots, depth)
    }
}

fn sub_expr(rng: &mut Rng, roots: &[&str], depth: usize) -> String {
    if depth == 0 || rng.one_in(4) {
        return atom(rng, roots);
    }
    let sub = |rng: &mut Rng| sub_expr(rng, roots, depth - 1);
    match rng.below(12) {
        0 | 1 => {
            let op = rng.pick(&COMPARISONS);
            format!("{} {op} {}", sub(rng), sub(rng))
        }
        2 => format!("{} && {}", sub(rng), sub(rng)),
        3 => format!("{} || {}", sub(rng), sub(rng)),
        4 => format!("!{}", sub(rng)),
        5 => format!("({})", sub(rng)),
        6 => function(rng, roots, depth),
        7 => format!("{}[?{}]", path(rng, roots), filter(rng, depth)),
        8 => format!("{}[*].{}", path(rng, roots), rng.pick(&FIELDS)),
        9 => format!("{} | {}", sub(rng), sub(rng)),
        10 => format!("[{}, {}]", sub(rng), sub(rng)),
        _ => format!("{{k: {}, v: {}}}", sub(rng), sub(rng)),
    }
}

fn literal(rng: &mut Rng) -> String {
    rng.choose(&LITERALS, &BAD_LITERALS).to_string()
}

/// A filter body: relative paths (`status == 'down'`), or `@`.
fn filter(rng: &mut Rng, depth: usize) -> String {
    let field = rng.pick(&FIELDS);
    match rng.below(3) {
        0 => format!("{field} == {}", literal(rng)),
        1 => format!("@ > {}", literal(rng)),
        _ => sub_expr(rng, &["@"], depth.saturating_sub(1)),
    }
}

fn atom(rng: &mut Rng, roots: &[&str]) -> String {
    match rng.below(5) {
        0 | 1 => path(rng, roots),
        2 => literal(rng),
        3 => format!("{}[{}]", path(rng, roots), slice(rng)),
        _ => {
            let op = rng.pick(&COMPARISONS);
            format!("{} {op} {}", path(rng, roots), literal(rng))
        }
    }
}

/// A dotted path from one of `roots`, or (mischief) from a root the document does not have.
pub fn path(rng: &mut Rng, roots: &[&str]) -> String {
    let mut text = rng
        .choose(roots, &["env", "evnt", "foo", "\"event\"", "window"])
        .to_string();
    for _ in 0..rng.below(3) {
        text.push('.');
        let field = *rng.pick(&FIELDS);
        text.push_str(field);
    }
    text
}

fn slice(rng: &mut Rng) -> String {
    let number = |rng: &mut Rng| {
        rng.choose(
            &["", "0", "1", "-1", "2"],
            &["9223372036854775807", "-9223372036854775809", "x"],
        )
        .to_string()
    };
    match rng.below(3) {
        0 => number(rng),
        1 => format!("{}:{}", number(rng), number(rng)),
        _ => format!("{}:{}:{}", number(rng), number(rng), number(rng)),
    }
}

fn function(rng: &mut Rng, roots: &[&str], depth: usize) -> String {
    let arg = |rng: &mut Rng| sub_expr(rng, roots, depth.saturating_sub(2));
    let p = path(rng, roots);
    let field = rng.pick(&FIELDS);
    match rng.below(16) {
        0 => format!("length({p})"),
        1 => format!("contains({p}, {})", arg(rng)),
        2 => format!("starts_with({p}, 'Q2')"),
        3 => format!("regex_match({p}, {})", rng.choose(&PATTERNS, &BAD_PATTERNS)),
        4 => format!(
            "regex_search({p}, {}, `true`)",
            rng.choose(&PATTERNS, &BAD_PATTERNS)
        ),
        5 => format!("cidr_contains({}, {p})", rng.choose(&CIDRS, &BAD_CIDRS)),
        6 => format!("fuzzy_ratio({p}, 'printer') > `80`"),
        7 => format!("partial_ratio(lower({p}), to_string({}))", arg(rng)),
        8 => format!("to_epoch({p}) > to_epoch('2026-01-01')"),
        9 => format!("split({p}, ',')"),
        10 => format!("replace({p}, '', 'x')"),
        11 => format!("sort_by({p}, &{field})"),
        12 => format!("max_by({p}, &to_number({field}))"),
        13 => format!("sum([{p}, `1`])"),
        14 => {
            let name = rng.pick(&[
                "keys",
                "values",
                "upper",
                "abs",
                "not_null",
                "to_string",
                "type",
                "reverse",
                "avg",
            ]);
            format!("{name}({p})")
        }
        _ => {
            let name = rng.choose(
                &["not_null", "to_array"],
                &["regex_serch", "len", "now", "cidr_contains"],
            );
            format!("{name}({})", arg(rng))
        }
    }
}

/// Expressions at the limits (32 nested brackets, 128 operators) or (mischief) past them, and
/// long or deep quoted parts, which the limits do not count.
fn extreme_expr(rng: &mut Rng, roots: &[&str]) -> String {
    let root = rng.pick(roots);
    let n = *rng.choose(&[16, 31, 32], &[33, 64, 1_000, 20_000]);
    // Roots and comparisons add a few operators of their own, hence 120 at most when valid.
    let operators = *rng.choose(&[64, 100, 120], &[129, 1_000, 20_000]);
    match rng.below(7) {
        0 => format!("{}{root}.a{}", "(".repeat(n), ")".repeat(n)),
        1 => format!("{}{root}.a", "!".repeat(operators - 1)),
        2 => format!("{root}{}", ".a".repeat(operators)),
        // Each part adds its dots and each `||` two characters.
        3 => vec![format!("{root}.a"); operators / 4].join(" || "),
        4 => format!("{root}.a == `{}1{}`", "[".repeat(n), "]".repeat(n)),
        5 => format!("{root}.a == '{}'", "(|.".repeat(operators)),
        _ => format!("{}{root}.a{}", "[".repeat(n), "]".repeat(n)),
    }
}

/// What templates read: every variable of the context, some that may be missing, one that is not.
const TEMPLATE_VALUES: [&str; 14] = [
    "event.a",
    "event['s']",
    "events.m_0.n",
    "vars.limit",
    "facts.x",
    "rule",
    "ruleset",
    "status",
    "window.avg",
    "event.list",
    "meta.key",
    "env.HOME",
    "env.SEMAPHORE_FUZZ_UNSET",
    "undefined_name",
];

/// A Jinja template for an action argument. Wrong ones do not parse; some valid ones fail when
/// rendered (an undefined name, a huge range, endless recursion).
pub fn template(rng: &mut Rng) -> String {
    let v = rng.pick(&TEMPLATE_VALUES);
    if rng.mischief() {
        let depth = rng.between(100, 2_000);
        return rng
            .pick(&[
                format!("{{{{ {v}"),
                "{% for %}{{ }}{# unclosed".to_owned(),
                format!("{{{{ {}{v}{} }}}}", "(".repeat(depth), ")".repeat(depth)),
                "{% endif %}".to_owned(),
            ])
            .clone();
    }
    match rng.below(14) {
        0 => format!("{{{{ {v} }}}}"),
        1 => format!("Loss {{{{ {v} }}}}% on {{{{ event.serial }}}}"),
        2 => format!("{{{{ {v} | default('n/a') }}}}"),
        3 => format!("{{{{ {v} | join(', ') }}}}"),
        4 => format!("{{{{ {v} | round(1) }}}}"),
        5 => format!("{{{{ 'Q2AB'.lower() ~ {v} }}}}"),
        6 => format!("{{% if {v} %}}yes{{% else %}}no{{% endif %}}"),
        7 => format!("{{% for i in {v} %}}{{{{ i }}}},{{% endfor %}}"),
        8 => {
            let n = rng.pick(&["3", "100000", "99999999999"]);
            format!("{{{{ range({n}) | list | length }}}}")
        }
        9 => format!("{{{{ {}{v}{} }}}}", "(".repeat(20), ")".repeat(20)),
        10 => "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}".to_owned(),
        11 => format!("{{{{ 'ab' * {} }}}}", rng.pick(&["3", "1000000", "-1"])),
        12 => "{{ event | tojson }}".to_owned(),
        _ => "plain text, no template".to_owned(),
    }
}

/// A duration as a rulebook writes it.
pub fn duration(rng: &mut Rng) -> String {
    rng.choose(
        &[
            "10 minutes",
            "500 ms",
            "30 s",
            "2h",
            "1 day",
            "1.5 hours",
            "30",
            "1 second",
            "1 ms",
        ],
        &[
            "-1 s",
            "1e400 s",
            "99999999999999999 days",
            "18446744073709551615",
            "ten",
            "\"\"",
            "5 fortnights",
            "9223372036854775807 ms",
            ".nan",
            ".inf",
            "0",
        ],
    )
    .to_string()
}

/// A time for a silence's `starts_at` or an event's `meta.timestamp`; valid ones are before
/// every valid [`end_time`].
pub fn time(rng: &mut Rng) -> String {
    rng.choose(
        &[
            "2026-01-15T09:55:00Z",
            "2026-01-01T00:00:00+01:00",
            "1970-01-01T00:00:00Z",
        ],
        &[
            "0000-01-01T00:00:00Z",
            "+275760-09-13T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-01-15 09:55",
            "yesterday",
            "",
            "2030-01-01T00:00:00Z",
        ],
    )
    .to_string()
}

/// A silence's `ends_at`.
pub fn end_time(rng: &mut Rng) -> String {
    rng.choose(
        &[
            "2026-01-15T11:55:00+01:00",
            "2026-01-15T10:05:00Z",
            "9999-12-31T23:59:59Z",
        ],
        &["1969-12-31T23:59:59Z", "9999-12-31T23:59:60Z", "soon"],
    )
    .to_string()
}

/// A JSON value for an event field.
pub fn json_value(rng: &mut Rng, depth: usize) -> serde_json::Value {
    use serde_json::{Value, json};
    if depth == 0 || rng.one_in(3) {
        return match rng.below(10) {
            0 => json!(rng.below(200)),
            1 => json!(-1.5),
            2 => json!(u64::MAX),
            3 => json!(i64::MIN),
            4 => Value::Null,
            5 => json!(true),
            6 => json!(rng.pick(&["wan1", "down", "Q2AB-1234", "10.1.2.3", "", "é🦀\u{0}"])),
            7 => json!("2026-01-15T09:55:00Z"),
            8 => json!(1e300),
            _ => json!("x".repeat(*rng.pick(&[1, 100, 10_000]))),
        };
    }
    if rng.one_in(2) {
        Value::Array(
            (0..rng.below(4))
                .map(|_| json_value(rng, depth - 1))
                .collect(),
        )
    } else {
        let fields = (0..rng.below(4))
            .map(|_| {
                let key = rng.pick(&FIELDS).trim_matches('"').to_owned();
                (key, json_value(rng, depth - 1))
            })
            .collect();
        Value::Object(fields)
    }
}
