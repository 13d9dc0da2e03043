//! Which spellings of the request's URL a signature may have been made over.
//!
//! Twilio signs the URL as it was configured. The worker sees that URL as the runtime
//! serialized it: host lower-cased, the default port dropped, and some characters
//! percent-encoded (`'` becomes `%27` in a query). Twilio's own validator (twilio-node's
//! `validateRequest`, twilio-python's `RequestValidator`) accepts a signature over the URL
//! without its port, with the scheme's default port, and over the URL normalized by a WHATWG
//! parser, with and without the query re-encoded the way Node's legacy `querystring` does. The
//! worker accepts the same spellings, starting from what it sees, plus the one with the
//! runtime's own re-encoding undone (the URL as configured, when it had `'` or a space raw).
//! Every spelling names the same URL: none lets in a request signed for another URL.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The URLs to check a signature against, for a request the worker saw as `seen` (or rebuilt
/// from `PUBLIC_URL`), without repeats, the URL as seen first (callers rely on that order).
pub fn candidates(seen: &str) -> Vec<String> {
    let mut bases = vec![seen.to_owned()];
    push_new(&mut bases, undo_runtime_encoding(seen));
    let mut urls = vec![seen.to_owned()];
    for base in &bases {
        for url in [without_port(base), with_default_port(base)] {
            let legacy = with_legacy_querystring(&url);
            push_new(&mut urls, url);
            push_new(&mut urls, legacy);
        }
    }
    urls
}

fn push_new(urls: &mut Vec<String>, url: String) {
    if !urls.contains(&url) {
        urls.push(url);
    }
}

/// `scheme://`, the host (with user info), the port (with its `:`, or empty), and the rest.
fn split(url: &str) -> Option<(&str, &str, &str, &str)> {
    let scheme_end = url.find("://")? + 3;
    let (scheme, after) = url.split_at(scheme_end);
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(authority_end);
    // An IPv6 literal (`[::1]`) holds colons of its own; a port comes after its `]`.
    let host_end = authority.rfind(']').map_or(0, |i| i + 1);
    let port_start = authority[host_end..].find(':').map_or(authority.len(), |i| host_end + i);
    Some((scheme, &authority[..port_start], &authority[port_start..], rest))
}

/// The URL without any port, as twilio-node's `removePort` makes it.
pub fn without_port(url: &str) -> String {
    match split(url) {
        Some((scheme, host, _, rest)) => format!("{scheme}{host}{rest}"),
        None => url.to_owned(),
    }
}

/// The URL with the scheme's default port when it has none, as twilio-node's `addPort` makes it.
pub fn with_default_port(url: &str) -> String {
    match split(url) {
        Some((scheme, host, "", rest)) => {
            let port = if scheme.eq_ignore_ascii_case("https://") { ":443" } else { ":80" };
            format!("{scheme}{host}{port}{rest}")
        }
        _ => url.to_owned(),
    }
}

/// The characters a WHATWG URL parser percent-encodes that a configured URL may hold raw:
/// in a path and in a query of an http(s) URL. Anything else encoded in the URL was encoded by
/// whoever configured it, and stays so.
fn encoded_by_runtime(byte: u8, in_query: bool) -> bool {
    match byte {
        b' ' | b'"' | b'<' | b'>' => true,
        b'\'' => in_query,
        b'`' | b'{' | b'}' => !in_query,
        _ => false,
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// The URL with the runtime's percent-encoding undone: `%27` → `'` in the query, `%20` → space,
/// and UTF-8 sequences back to their characters. Only upper-case escapes, the runtime's own.
/// Written by hand: it decodes only what the runtime encoded, which no decoder crate offers.
pub fn undo_runtime_encoding(url: &str) -> String {
    let bytes = url.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut in_query = false;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        in_query |= byte == b'?';
        let escaped = (byte == b'%')
            .then(|| Some(hex_value(*bytes.get(i + 1)?)? << 4 | hex_value(*bytes.get(i + 2)?)?))
            .flatten();
        match escaped {
            Some(decoded) if decoded >= 0x80 || encoded_by_runtime(decoded, in_query) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    // A decoded byte that is not part of valid UTF-8 was not the runtime's: keep the URL as is.
    String::from_utf8(out).unwrap_or_else(|_| url.to_owned())
}

/// twilio-node's `withLegacyQuerystring`: the query parsed and written again by Node's legacy
/// `querystring` module (`+` and `%20` read as a space, keys grouped in JavaScript object order,
/// everything but `A-Za-z0-9-_.!~*'()` escaped).
pub fn with_legacy_querystring(url: &str) -> String {
    let Some(start) = url.find('?') else { return url.to_owned() };
    if start == url.len() - 1 {
        return url.to_owned();
    }
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for piece in url[start + 1..].split('&').filter(|piece| !piece.is_empty()) {
        let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
        let (key, value) = (legacy_unescape(key), legacy_unescape(value));
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => groups.push((key, vec![value])),
        }
    }
    // JavaScript orders an object's array-index keys ("0", "1", …) first, by number.
    let index = |key: &str| key.parse::<u32>().ok().filter(|n| *n != u32::MAX && n.to_string() == key);
    groups.sort_by_key(|(key, _)| index(key).map_or((1, 0), |n| (0, n)));
    let query: Vec<String> = groups
        .iter()
        .flat_map(|(key, values)| {
            values.iter().map(move |value| format!("{}={}", legacy_escape(key), legacy_escape(value)))
        })
        .collect();
    format!("{}?{}", &url[..start], query.join("&"))
}

fn legacy_unescape(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// What Node's legacy `querystring.escape` leaves as it is: `A-Za-z0-9-_.!~*'()`.
const LEGACY_KEPT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

fn legacy_escape(text: &str) -> String {
    utf8_percent_encode(text, LEGACY_KEPT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_removed_and_added_as_twilio_node_does() {
        assert_eq!(without_port("https://a.example:8443/x?p=1"), "https://a.example/x?p=1");
        assert_eq!(without_port("http://[::1]:8787/x"), "http://[::1]/x");
        assert_eq!(with_default_port("https://a.example/x"), "https://a.example:443/x");
        assert_eq!(with_default_port("http://a.example?x"), "http://a.example:80?x");
        assert_eq!(with_default_port("http://a.example:8787/x"), "http://a.example:8787/x");
        assert_eq!(with_default_port("not a url"), "not a url");
    }

    #[test]
    fn the_runtimes_encoding_is_undone_only_where_it_encodes() {
        assert_eq!(undo_runtime_encoding("https://a.example/p?q=it%27s%20ok"), "https://a.example/p?q=it's ok");
        assert_eq!(undo_runtime_encoding("https://a.example/it%27s?q=caf%C3%A9"), "https://a.example/it%27s?q=café");
        assert_eq!(undo_runtime_encoding("https://a.example/p?q=a%26b%2Bc"), "https://a.example/p?q=a%26b%2Bc");
        assert_eq!(undo_runtime_encoding("https://a.example/p?q=%FF"), "https://a.example/p?q=%FF");
        assert_eq!(undo_runtime_encoding("https://a.example/p?q=%2"), "https://a.example/p?q=%2");
    }

    #[test]
    fn the_legacy_querystring_matches_nodes() {
        // Each expected value is what twilio-node's withLegacyQuerystring gives for the input.
        for (url, legacy) in [
            ("https://a.example/p?b=2&a=1&b=3", "https://a.example/p?b=2&b=3&a=1"),
            ("https://a.example/p?q=a+b%20c&t=~!*()'", "https://a.example/p?q=a%20b%20c&t=~!*()'"),
            ("https://a.example/p?z=1&2=x&1=y", "https://a.example/p?1=y&2=x&z=1"),
            ("https://a.example/p?flag&e=", "https://a.example/p?flag=&e="),
            ("https://a.example/p?", "https://a.example/p?"),
            ("https://a.example/p", "https://a.example/p"),
            ("https://a.example/p?n=caf%C3%A9", "https://a.example/p?n=caf%C3%A9"),
        ] {
            assert_eq!(with_legacy_querystring(url), legacy, "{url}");
        }
    }

    #[test]
    fn candidates_start_with_the_url_as_seen_and_never_repeat() {
        let urls = candidates("https://a.example/p?q=it%27s");
        assert_eq!(urls[0], "https://a.example/p?q=it%27s");
        assert!(urls.contains(&"https://a.example:443/p?q=it%27s".to_owned()));
        assert!(urls.contains(&"https://a.example/p?q=it's".to_owned()));
        let mut unique = urls.clone();
        unique.dedup();
        assert_eq!(unique.len(), urls.len());
    }
}
