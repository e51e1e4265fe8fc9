//! EDA sources: `ansible.eda.kafka` (any plugin named `...kafka`) becomes a semaphore `kafka`
//! source; its connection settings, which semaphore takes on the command line, become warnings naming
//! the flag to pass. Other plugins are dropped with a warning, so that the result still runs in
//! `rules test`, which reads events from a file anyway.

use super::super::yaml::{Node, NodeKind};
use super::book::Translator;
use super::out::Out;

/// Kafka plugin arguments semaphore has no rulebook key for, and the flag that does the same.
const CONNECTION: &[(&str, &str)] = &[
    ("host", "--bootstrap-servers HOST:PORT"),
    ("port", "--bootstrap-servers HOST:PORT"),
    ("cafile", "--ssl-ca-location FILE"),
    ("certfile", "-X ssl.certificate.location=FILE"),
    ("keyfile", "-X ssl.key.location=FILE"),
    ("password", "-X ssl.key.password=..."),
    (
        "check_hostname",
        "-X ssl.endpoint.identification.algorithm=none (to turn it off)",
    ),
    (
        "verify_mode",
        "--ssl-ca-location FILE (certificates are always verified)",
    ),
    (
        "security_protocol",
        "-X security.protocol=VALUE (--api-key/--api-secret set SASL_SSL)",
    ),
    (
        "sasl_mechanism",
        "-X sasl.mechanism=VALUE (--api-key/--api-secret set PLAIN)",
    ),
    ("sasl_plain_username", "--api-key (CLUSTER_API_KEY)"),
    ("sasl_plain_password", "--api-secret (CLUSTER_API_SECRET)"),
];

impl Translator<'_> {
    pub(super) fn sources(&mut self, node: &Node) {
        let NodeKind::Seq(sources) = &node.kind else {
            self.error(node.pos, "`sources` must be a list");
            return;
        };
        let mut out = Out::default();
        for source in sources {
            self.source(&mut out, source);
        }
        if out.lines.is_empty() {
            return;
        }
        self.out.line(2, "sources:");
        for line in out.lines {
            self.out.line(4, line);
        }
    }

    fn source(&mut self, out: &mut Out, node: &Node) {
        let Some(entries) = node.entries() else {
            self.error(
                node.pos,
                "a source is a mapping with the plugin's name as a key",
            );
            return;
        };
        let name = node.get("name");
        if let Some(filters) = node.get("filters") {
            self.warn(filters.pos, "source filters are not supported: dropped (semaphore reads each Kafka record as one JSON event)");
        }
        let plugins: Vec<_> = entries
            .iter()
            .filter(|(k, _)| k.name != "name" && k.name != "filters")
            .collect();
        let [(plugin, args)] = plugins.as_slice() else {
            self.error(
                node.pos,
                "a source has exactly one plugin key (such as `ansible.eda.kafka`)",
            );
            return;
        };
        if plugin.name != "kafka" && !plugin.name.ends_with(".kafka") {
            self.warn(
                plugin.pos,
                format!(
                    "source `{}` has no semaphore equivalent: dropped (semaphore reads Kafka; `rules test --events FILE` replays events)",
                    plugin.name
                ),
            );
            return;
        }
        let mut kafka = Out::default();
        for (key, value) in args.entries().unwrap_or_default() {
            match key.name.as_str() {
                "topic" | "topics" | "group_id" => kafka.field(2, &key.name, value),
                "offset" => match &value.kind {
                    NodeKind::Str(o) if o == "earliest" || o == "latest" => kafka.field(2, "offset", value),
                    _ => self.error(value.pos, "offset is `earliest` or `latest`"),
                },
                "encoding" => {
                    if !matches!(&value.kind, NodeKind::Str(e) if e.eq_ignore_ascii_case("utf-8")) {
                        self.warn(key.pos, "semaphore reads record values as UTF-8 JSON: `encoding` dropped");
                    }
                }
                other => match CONNECTION.iter().find(|(k, _)| *k == other) {
                    Some((_, flag)) => self.warn(
                        key.pos,
                        format!("`{other}` is a connection setting in semaphore: pass {flag} to `rules run`"),
                    ),
                    None => self.warn(key.pos, format!("kafka argument `{other}` has no semaphore equivalent: dropped")),
                },
            }
        }
        match name {
            Some(name) => {
                let text = super::out::inline(name).unwrap_or_default();
                out.line(0, format!("- name: {text}"));
                out.line(2, "kafka:");
            }
            None => out.line(0, "- kafka:"),
        }
        if kafka.lines.is_empty() {
            self.error(plugin.pos, "a kafka source needs `topic` or `topics`");
        }
        for line in kafka.lines {
            out.line(2, line);
        }
    }
}
