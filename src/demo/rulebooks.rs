//! The rulebooks of `rulebooks/`, compiled into the binary so that an installed `semaphore demo`
//! runs from any directory. Only their text lives here; compiling them is `rulebook`'s job.

/// (file name, YAML text) of every shipped rulebook.
pub const SHIPPED: [(&str, &str); 3] = [
    (
        "high-loss.yml",
        include_str!("../../rulebooks/high-loss.yml"),
    ),
    ("latency.yml", include_str!("../../rulebooks/latency.yml")),
    (
        "new-client.yml",
        include_str!("../../rulebooks/new-client.yml"),
    ),
];

/// The environment variable whose URL the shipped rulebooks' webhooks post to.
pub const WEBHOOK_URL_ENV: &str = "SEMAPHORE_CHAT_WEBHOOK_URL";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rulebook;

    #[test]
    fn every_embedded_rulebook_compiles() {
        for (name, text) in SHIPPED {
            let book = rulebook::compile(name, text);
            assert!(book.is_ok(), "{name}: {:?}", book.err());
        }
    }

    #[test]
    fn the_webhook_urls_come_from_the_variable_the_demo_sets() {
        let webhooks: Vec<&str> = SHIPPED
            .iter()
            .map(|(_, text)| *text)
            .filter(|text| text.contains("webhook:"))
            .collect();
        assert!(!webhooks.is_empty());
        assert!(webhooks.iter().all(|text| text.contains(WEBHOOK_URL_ENV)));
    }
}
