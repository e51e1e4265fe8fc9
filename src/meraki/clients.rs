//! `publish clients`: for each organization, every network (all pages) that can have clients (not
//! camera- or sensor-only), then its clients (all pages, `perPage` up to 5000), filtered and
//! annotated by the original filter file. One message per network in the original's shape,
//! `{"payload": [clients], "network": id, "networkName": name}` keyed by network id, or one per
//! client (`per_client`, keyed by MAC). With a filter, each client it lets through carries
//! `filter_config` and `conditional_match` (and `fuzzy`), as the original added them. Each client
//! gets `organizationId` and `networkName` (and `networkId`). A network the API answers 400 or 404 for is skipped, as the original did. Memory
//! holds at most one network's clients.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::{Map, Value, json};

use super::filter::ClientFilter;
use super::model::Network;
use super::schedule::{OrgContext, OrgPoller, PollError, for_each_bounded};
use super::sinks::Record;

/// Product types whose networks have no clients to list.
const CLIENTLESS_PRODUCTS: [&str; 2] = ["camera", "sensor"];

#[derive(Clone, Debug)]
pub struct ClientsOptions {
    /// Seconds back from now.
    pub timespan: f64,
    /// Clients per page, 3 to 5000.
    pub per_page: u32,
    /// One message per client instead of one per network.
    pub per_client: bool,
    pub filter: Option<ClientFilter>,
    /// Networks read at once per organization.
    pub concurrency: usize,
}

/// Clients seen in the last day, unless told otherwise.
pub const DEFAULT_TIMESPAN_S: f64 = 86_400.0;
/// The most clients the API returns per page, and the default.
pub const MAX_PER_PAGE: u32 = 5000;

impl Default for ClientsOptions {
    /// One record per network, the last day, full pages, no filter.
    fn default() -> Self {
        ClientsOptions {
            timespan: DEFAULT_TIMESPAN_S,
            per_page: MAX_PER_PAGE,
            per_client: false,
            filter: None,
            concurrency: super::DEFAULT_CONCURRENCY,
        }
    }
}

pub struct ClientsPoller {
    options: ClientsOptions,
}

impl ClientsPoller {
    pub fn new(options: ClientsOptions) -> Self {
        Self { options }
    }

    async fn poll_network(&self, ctx: &OrgContext, network: &Network) -> Result<(), PollError> {
        let path = format!("networks/{}/clients", network.id);
        let query = [
            ("perPage", self.options.per_page.to_string()),
            ("timespan", self.options.timespan.to_string()),
        ];
        let mut pages = ctx
            .client
            .pages::<Map<String, Value>>(Some(&ctx.org.id), &path, &query)?;
        let mut payload = Vec::new();
        while let Some(page) = pages.next_page().await? {
            ctx.progress
                .clients
                .fetch_add(page.len() as u64, Ordering::Relaxed);
            for client in page {
                let Some(client) = self.enrich(client, network, &ctx.org.id) else {
                    continue;
                };
                if self.options.per_client {
                    ctx.emit(client_record(client)).await?;
                } else {
                    payload.push(Value::Object(client));
                }
            }
        }
        if !payload.is_empty() {
            let value =
                json!({"payload": payload, "network": network.id, "networkName": network.name});
            ctx.emit(Record {
                key: network.id.clone(),
                value,
            })
            .await?;
        }
        Ok(())
    }

    /// The filter's verdict, then the context fields the original added.
    fn enrich(
        &self,
        mut client: Map<String, Value>,
        network: &Network,
        org: &str,
    ) -> Option<Map<String, Value>> {
        if let Some(filter) = &self.options.filter {
            client = filter.select(client)?;
        }
        let org = network.organization_id.as_deref().unwrap_or(org);
        client.insert("organizationId".into(), json!(org));
        client.insert("networkName".into(), json!(network.name));
        client.insert("networkId".into(), json!(network.id));
        Some(client)
    }
}

impl OrgPoller for ClientsPoller {
    async fn poll_org(self: Arc<Self>, ctx: OrgContext) -> Result<(), PollError> {
        let path = format!("organizations/{}/networks", ctx.org.id);
        let mut pages = ctx.client.pages::<Network>(Some(&ctx.org.id), &path, &[])?;
        while let Some(page) = pages.next_page().await? {
            let networks = page.into_iter().filter(has_clients);
            for_each_bounded(networks, self.options.concurrency, |network| {
                let (poller, ctx) = (Arc::clone(&self), ctx.clone());
                async move {
                    ctx.progress.networks.fetch_add(1, Ordering::Relaxed);
                    match poller.poll_network(&ctx, &network).await {
                        Err(PollError::Api(err)) if matches!(err.status(), Some(400 | 404)) => {
                            ctx.progress.skipped.fetch_add(1, Ordering::Relaxed);
                            tracing::info!(network = network.id, error = %err, "no clients for this network");
                            Ok(())
                        }
                        other => ctx.tolerate(&network.id, other),
                    }
                }
            })
            .await?;
        }
        Ok(())
    }
}

/// Networks of unknown product types are read: better one call too many than clients missed.
fn has_clients(network: &Network) -> bool {
    network.product_types.is_empty()
        || network
            .product_types
            .iter()
            .any(|product| !CLIENTLESS_PRODUCTS.contains(&product.as_str()))
}

/// Keyed by MAC, the client's stable identity; by id when the MAC is missing.
fn client_record(client: Map<String, Value>) -> Record {
    let key = ["mac", "id"]
        .iter()
        .find_map(|field| client.get(*field).and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned();
    Record {
        key,
        value: Value::Object(client),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(product_types: &[&str]) -> Network {
        serde_json::from_value(json!({
            "id": "N_1", "organizationId": "2930418", "name": "Main Office", "productTypes": product_types
        }))
        .expect("network")
    }

    #[test]
    fn camera_and_sensor_only_networks_have_no_clients() {
        assert!(!has_clients(&network(&["camera"])));
        assert!(!has_clients(&network(&["camera", "sensor"])));
        assert!(has_clients(&network(&["appliance", "camera"])));
        assert!(has_clients(&network(&[])));
    }

    #[test]
    fn clients_get_the_network_context_and_the_fuzzy_scores() {
        let filter = ClientFilter::from_value(json!({
            "match": "any", "fuzzy": {"key": "description", "value": "printer"}
        }))
        .expect("filter");
        let poller = ClientsPoller::new(ClientsOptions {
            timespan: 86400.0,
            per_page: 5000,
            per_client: true,
            filter: Some(filter),
            concurrency: 1,
        });
        let client = json!({"id": "k000001", "mac": "00:00:5e:00:53:41", "description": "printer"});
        let enriched = poller
            .enrich(
                client.as_object().cloned().expect("object"),
                &network(&["switch"]),
                "9",
            )
            .expect("a fuzzy filter passes every client");
        let record = client_record(enriched);
        assert_eq!(record.key, "00:00:5e:00:53:41");
        assert_eq!(record.value["organizationId"], "2930418");
        assert_eq!(record.value["networkName"], "Main Office");
        assert_eq!(record.value["fuzzy"], json!({"ratio": 100, "partial": 100}));
        assert_eq!(record.value["conditional_match"], json!(false));
        assert_eq!(record.value["filter_config"]["match"], "any");
    }
}
