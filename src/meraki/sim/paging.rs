//! Meraki-style pagination for the simulator: items sorted by key, `startingAfter`/`endingBefore`
//! tokens that are item keys, and a `Link` header with `first`, `prev`, `next` and `last` whose URLs
//! carry every original query parameter (keys in alphabetical order, as live links have them),
//! absolute on the host that was asked or, by switch, relative to `/api/v1`.

use std::collections::VecDeque;

use reqwest::Url;

/// The paging parameters of one request.
#[derive(Clone, Debug, Default)]
pub struct PageQuery {
    pub per_page: usize,
    pub starting_after: Option<String>,
    pub ending_before: Option<String>,
}

/// One page and whether there is more on either side.
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_prev: bool,
    pub has_next: bool,
}

/// Cuts one page out of `items` (sorted ascending by `key`).
pub fn paginate<T>(
    items: impl Iterator<Item = T>,
    key: impl Fn(&T) -> String,
    query: &PageQuery,
) -> Page<T> {
    let per_page = query.per_page.max(1);
    if let (None, Some(before)) = (&query.starting_after, &query.ending_before) {
        let (mut window, mut before_count, mut has_next) = (VecDeque::new(), 0, false);
        for item in items {
            if key(&item) >= *before {
                has_next = true;
                break;
            }
            before_count += 1;
            window.push_back(item);
            if window.len() > per_page {
                window.pop_front();
            }
        }
        return Page {
            items: window.into(),
            has_prev: before_count > per_page,
            has_next,
        };
    }
    let mut skipped = 0;
    let mut rest = items.skip_while(|item| {
        let skip = query
            .starting_after
            .as_ref()
            .is_some_and(|after| key(item) <= *after);
        skipped += usize::from(skip);
        skip
    });
    let page: Vec<T> = rest.by_ref().take(per_page).collect();
    let has_next = rest.next().is_some();
    Page {
        items: page,
        has_prev: skipped > 0,
        has_next,
    }
}

/// Where links point.
pub struct LinkBase<'a> {
    /// `http://host:port/api/v1`, or empty for links relative to `/api/v1`.
    pub origin: &'a str,
    /// The path after `/api/v1`, e.g. `/networks/N_1/clients`.
    pub path: &'a str,
    /// The request's query, tokens included (they are replaced).
    pub params: &'a [(String, String)],
    /// Tokens before the first and after the last key.
    pub sentinels: (&'a str, &'a str),
}

/// The `Link` header for a page whose first and last keys are given.
pub fn link_header(
    base: &LinkBase<'_>,
    first_key: Option<&str>,
    last_key: Option<&str>,
    has_prev: bool,
    has_next: bool,
) -> String {
    let mut links = vec![link(base, "startingAfter", base.sentinels.0, "first")];
    if let (true, Some(first)) = (has_prev, first_key) {
        links.push(link(base, "endingBefore", first, "prev"));
    }
    if let (true, Some(last)) = (has_next, last_key) {
        links.push(link(base, "startingAfter", last, "next"));
    }
    links.push(link(base, "endingBefore", base.sentinels.1, "last"));
    links.join(", ")
}

fn link(base: &LinkBase<'_>, token: &str, value: &str, rel: &str) -> String {
    let mut params: Vec<(&str, &str)> = base
        .params
        .iter()
        .filter(|(key, _)| key != "startingAfter" && key != "endingBefore")
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    params.push((token, value));
    params.sort_by(|a, b| a.0.cmp(b.0));
    let mut encoder = Url::parse("http://query.invalid/").expect("a constant, valid URL");
    encoder.query_pairs_mut().extend_pairs(params);
    let query = encoder.query().unwrap_or_default();
    format!("<{}{}?{query}>; rel={rel}", base.origin, base.path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(page: &Page<u32>) -> Vec<u32> {
        page.items.clone()
    }

    fn query(after: Option<&str>, before: Option<&str>) -> PageQuery {
        PageQuery {
            per_page: 3,
            starting_after: after.map(str::to_owned),
            ending_before: before.map(str::to_owned),
        }
    }

    #[test]
    fn pages_walk_forward_and_backward() {
        let items = || 1..=8_u32;
        let key = |n: &u32| format!("{n:02}");
        let first = paginate(items(), key, &query(None, None));
        assert_eq!(
            (keys(&first), first.has_prev, first.has_next),
            (vec![1, 2, 3], false, true)
        );
        let middle = paginate(items(), key, &query(Some("03"), None));
        assert_eq!(
            (keys(&middle), middle.has_prev, middle.has_next),
            (vec![4, 5, 6], true, true)
        );
        let last = paginate(items(), key, &query(Some("06"), None));
        assert_eq!(
            (keys(&last), last.has_prev, last.has_next),
            (vec![7, 8], true, false)
        );
        let back = paginate(items(), key, &query(None, Some("07")));
        assert_eq!(
            (keys(&back), back.has_prev, back.has_next),
            (vec![4, 5, 6], true, true)
        );
        let end = paginate(items(), key, &query(None, Some("99")));
        assert_eq!((keys(&end), end.has_next), (vec![6, 7, 8], false));
    }

    #[test]
    fn links_keep_every_parameter_in_alphabetical_order() {
        let params = vec![
            ("timespan".to_owned(), "86400".to_owned()),
            ("perPage".to_owned(), "3".to_owned()),
            ("productTypes[]".to_owned(), "appliance".to_owned()),
            ("startingAfter".to_owned(), "k000003".to_owned()),
        ];
        let base = LinkBase {
            origin: "https://api.meraki.com/api/v1",
            path: "/networks/N_1/clients",
            params: &params,
            sentinels: ("a000000", "zzzzzzz"),
        };
        let header = link_header(&base, Some("k000004"), Some("k000006"), true, true);
        assert_eq!(
            header,
            "<https://api.meraki.com/api/v1/networks/N_1/clients?perPage=3&productTypes%5B%5D=appliance&startingAfter=a000000&timespan=86400>; rel=first, \
             <https://api.meraki.com/api/v1/networks/N_1/clients?endingBefore=k000004&perPage=3&productTypes%5B%5D=appliance&timespan=86400>; rel=prev, \
             <https://api.meraki.com/api/v1/networks/N_1/clients?perPage=3&productTypes%5B%5D=appliance&startingAfter=k000006&timespan=86400>; rel=next, \
             <https://api.meraki.com/api/v1/networks/N_1/clients?endingBefore=zzzzzzz&perPage=3&productTypes%5B%5D=appliance&timespan=86400>; rel=last"
        );
    }
}
