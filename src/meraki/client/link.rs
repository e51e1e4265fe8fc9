//! Where the client may go besides the URL it built: `Link` header parsing (RFC 8288, `rel`
//! quoted or not, links absolute or relative to the base URL *including* `/api/v1`), and the host
//! policy for redirects and page links. The key is only ever sent to Meraki's API domains, the
//! base URL's own host, and hosts the operator names; never over plain HTTP when the base URL is
//! HTTPS.

use reqwest::Url;
use reqwest::header::{HeaderMap, LINK};

use super::ApiError;

/// Meraki's API domains (global, Canada, China, India, US FedRAMP) and their subdomains (shards).
const MERAKI_DOMAINS: [&str; 5] = [
    "meraki.com",
    "meraki.ca",
    "meraki.cn",
    "meraki.in",
    "gov-meraki.com",
];

/// The hosts a request may be sent to, and how relative links resolve.
pub(super) struct HostPolicy {
    base: Url,
    extra_hosts: Vec<String>,
}

impl HostPolicy {
    pub(super) fn new(base: &Url, extra_hosts: &[String]) -> Self {
        let mut hosts: Vec<String> = extra_hosts.iter().map(|h| h.to_ascii_lowercase()).collect();
        hosts.extend(base.host_str().map(str::to_ascii_lowercase));
        Self {
            base: base.clone(),
            extra_hosts: hosts,
        }
    }

    /// Resolves `target` (a `Location` or a `Link` URL) seen on `current`, if the policy allows it.
    pub(super) fn follow(
        &self,
        what: &'static str,
        current: &Url,
        target: &str,
    ) -> Result<Url, ApiError> {
        let refused = |reason| ApiError::Refused {
            what,
            path: current.path().to_owned(),
            target: target.to_owned(),
            reason,
        };
        let url = self
            .resolve(current, target)
            .ok_or_else(|| refused("not a valid URL"))?;
        if current.scheme() == "https" && url.scheme() != "https" {
            return Err(refused("it would send the API key without TLS"));
        }
        if !matches!(url.scheme(), "https" | "http") {
            return Err(refused("not an HTTP URL"));
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        if !(is_meraki_host(&host) || self.extra_hosts.contains(&host)) {
            return Err(refused(
                "not a Meraki host (allow it with --allow-host if it is yours)",
            ));
        }
        Ok(url)
    }

    fn resolve(&self, current: &Url, target: &str) -> Option<Url> {
        if target.starts_with("http://") || target.starts_with("https://") {
            return Url::parse(target).ok();
        }
        let base_path = self.base.path();
        if target.starts_with('/') && !target.starts_with(base_path) {
            // The spec calls page links "relative": relative to `/api/v1`, not to the host root.
            let joined = format!("{}{}", base_path.trim_end_matches('/'), target);
            return current.join(&joined).ok();
        }
        current.join(target).ok()
    }
}

fn is_meraki_host(host: &str) -> bool {
    MERAKI_DOMAINS
        .iter()
        .any(|domain| host == *domain || host.ends_with(&format!(".{domain}")))
}

/// Every `Link` header of a response, as one list.
pub(super) fn header(headers: &HeaderMap) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// The URL of the `rel=next` link, if any.
pub(super) fn next(header: &str) -> Option<String> {
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let close = open + rest[open..].find('>')?;
        let url = &rest[open + 1..close];
        let params_end = rest[close..].find('<').map_or(rest.len(), |i| close + i);
        let params = &rest[close + 1..params_end];
        if has_rel_next(params) {
            return Some(url.to_owned());
        }
        rest = &rest[params_end..];
    }
    None
}

/// `; rel=next`, `; rel="next"` or `; rel="prev next"`.
fn has_rel_next(params: &str) -> bool {
    params.split(';').any(|param| {
        let Some((name, value)) = param.split_once('=') else {
            return false;
        };
        name.trim().eq_ignore_ascii_case("rel")
            && value
                .trim()
                .trim_end_matches(',')
                .trim()
                .trim_matches('"')
                .split_ascii_whitespace()
                .any(|rel| rel.eq_ignore_ascii_case("next"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(base: &str, extra: &[&str]) -> HostPolicy {
        let extra: Vec<String> = extra.iter().map(|h| (*h).to_owned()).collect();
        HostPolicy::new(&Url::parse(base).expect("valid"), &extra)
    }

    #[test]
    fn next_is_found_quoted_or_not_among_other_relations() {
        let header = "<https://api.meraki.com/api/v1/n/c?perPage=3&startingAfter=a000000&timespan=86400>; rel=first, \
             <https://api.meraki.com/api/v1/n/c?perPage=3&startingAfter=k000003&timespan=86400>; rel=next, \
             <https://api.meraki.com/api/v1/n/c?endingBefore=zzzzzzz&perPage=3>; rel=last";
        assert_eq!(
            next(header).as_deref(),
            Some(
                "https://api.meraki.com/api/v1/n/c?perPage=3&startingAfter=k000003&timespan=86400"
            )
        );
        assert_eq!(
            next(r#"<https://x/o?startingAfter=9>; rel="next""#).as_deref(),
            Some("https://x/o?startingAfter=9")
        );
        assert_eq!(
            next("<https://x/a>; rel=first, <https://x/b>; rel=last"),
            None
        );
    }

    #[test]
    fn meraki_hosts_and_shards_are_allowed_others_are_not() {
        let policy = policy("https://api.meraki.com/api/v1/", &[]);
        let current = Url::parse("https://api.meraki.com/api/v1/organizations").expect("valid");
        for ok in [
            "https://n263.meraki.com/api/v1/organizations",
            "https://api.meraki.ca/api/v1/organizations",
            "https://api.gov-meraki.com/api/v1/organizations",
        ] {
            assert!(policy.follow("redirect", &current, ok).is_ok(), "{ok}");
        }
        for refused in [
            "https://evil.example/api/v1/organizations",
            "https://meraki.com.evil.example/x",
            "http://n1.meraki.com/api/v1/organizations",
        ] {
            assert!(
                policy.follow("redirect", &current, refused).is_err(),
                "{refused}"
            );
        }
    }

    #[test]
    fn relative_links_resolve_against_the_api_prefix() {
        let policy = policy("http://127.0.0.1:8080/api/v1/", &["localhost"]);
        let current = Url::parse("http://127.0.0.1:8080/api/v1/organizations").expect("valid");
        let url = policy
            .follow("link", &current, "/organizations?startingAfter=5")
            .expect("allowed");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/api/v1/organizations?startingAfter=5"
        );
        let url = policy
            .follow("link", &current, "/api/v1/organizations?startingAfter=5")
            .expect("allowed");
        assert_eq!(url.path(), "/api/v1/organizations");
        assert!(
            policy
                .follow("redirect", &current, "http://localhost:8080/x")
                .is_ok()
        );
    }
}
