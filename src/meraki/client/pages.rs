//! Walking a paginated GET: each page fetched when asked for, the next one found in the `Link`
//! header (`rel=next`) and allowed only to the same hosts as redirects, until there is none. It
//! holds one page at a time.

use reqwest::Url;
use serde::de::DeserializeOwned;

use super::{ApiError, Client, link};

/// Successive pages of one paginated GET, following `Link: rel=next` until there is none.
pub struct Pages<T> {
    client: Client,
    org: Option<String>,
    path: String,
    next: Option<Url>,
    pages: u64,
    item: std::marker::PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Pages<T> {
    pub(super) fn new(client: Client, org: Option<&str>, path: &str, first: Url) -> Self {
        Self {
            client,
            org: org.map(str::to_owned),
            path: path.to_owned(),
            next: Some(first),
            pages: 0,
            item: std::marker::PhantomData,
        }
    }

    /// The next page, or `None` after the last one.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>, ApiError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        let (body, links) = self.client.fetch(self.org.as_deref(), url.clone()).await?;
        let items: Vec<T> = decode(&self.path, &body)?;
        self.pages += 1;
        if let Some(next) = links.as_deref().and_then(link::next) {
            let next = self
                .client
                .inner
                .hosts
                .follow("next-page link", &url, &next)?;
            // A server that links a page to itself would keep us here forever.
            if next != url {
                self.next = Some(next);
            }
        }
        Ok(Some(items))
    }

    /// Pages read so far.
    pub fn pages_read(&self) -> u64 {
        self.pages
    }
}

pub(super) fn decode<T: DeserializeOwned>(path: &str, body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|source| ApiError::Decode {
        path: path.to_owned(),
        source,
    })
}
