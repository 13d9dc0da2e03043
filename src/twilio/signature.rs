//! `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, URL + sorted POST parameters)).
//!
//! Small functions in the shape of twilio-node's `webhooks.ts`, so each rule can be checked
//! against Twilio's own helper libraries.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::form::FormParams;

type HmacSha1 = Hmac<Sha1>;

/// The text Twilio signs: the URL, then each parameter as `key` + `value`, sorted by key and,
/// for a repeated key, by value; a value repeated under the same key counts once (as in
/// twilio-node and twilio-python).
pub fn signing_payload(url: &str, params: &FormParams) -> String {
    let mut pairs: Vec<&(String, String)> = params.pairs().iter().collect();
    pairs.sort();
    pairs.dedup();
    pairs.iter().fold(url.to_owned(), |mut payload, (key, value)| {
        payload.push_str(key);
        payload.push_str(value);
        payload
    })
}

fn mac_of(auth_token: &str, url: &str, params: &FormParams) -> HmacSha1 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(signing_payload(url, params).as_bytes());
    mac
}

/// The signature Twilio would send for this URL and parameters.
pub fn expected_signature(auth_token: &str, url: &str, params: &FormParams) -> String {
    BASE64.encode(mac_of(auth_token, url, params).finalize().into_bytes())
}

/// Checks `signature` for exactly this URL, in constant time.
pub fn is_valid_for_url(auth_token: &str, signature: &str, url: &str, params: &FormParams) -> bool {
    let Ok(claimed) = BASE64.decode(signature.trim()) else {
        return false;
    };
    mac_of(auth_token, url, params).verify_slice(&claimed).is_ok()
}

/// Checks `signature` for the URL as given, with the scheme's default port written out, and
/// without it: Twilio may have signed either form, and its helper libraries accept both.
pub fn is_valid(auth_token: &str, signature: &str, url: &str, params: &FormParams) -> bool {
    let with_port = url_with_default_port(url);
    let without_port = url_without_default_port(url);
    [Some(url), with_port.as_deref(), without_port.as_deref()]
        .into_iter()
        .flatten()
        .any(|candidate| is_valid_for_url(auth_token, signature, candidate, params))
}

/// `scheme://` and the authority (`host[:port]`, no user info in Twilio URLs) of an http(s) URL,
/// with the rest (path, query) after it.
fn split_origin(url: &str) -> Option<(&'static str, &str, &str)> {
    let (scheme, after_scheme) = if let Some(rest) = url.strip_prefix("https://") {
        ("https", rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        ("http", rest)
    } else {
        return None;
    };
    let end = after_scheme.find(['/', '?', '#']).unwrap_or(after_scheme.len());
    Some((scheme, &after_scheme[..end], &after_scheme[end..]))
}

fn default_port(scheme: &str) -> &'static str {
    if scheme == "https" { "443" } else { "80" }
}

fn has_port(authority: &str) -> bool {
    // An IPv6 literal (`[::1]`) holds colons of its own; a port comes after its `]`.
    let host_end = authority.rfind(']').unwrap_or(0);
    authority[host_end..].contains(':')
}

/// `https://host/path` → `https://host:443/path`; `None` when a port is already there.
pub fn url_with_default_port(url: &str) -> Option<String> {
    let (scheme, authority, rest) = split_origin(url)?;
    (!has_port(authority)).then(|| format!("{scheme}://{authority}:{}{rest}", default_port(scheme)))
}

/// `https://host:443/path` → `https://host/path`; `None` unless the default port is written out.
pub fn url_without_default_port(url: &str) -> Option<String> {
    let (scheme, authority, rest) = split_origin(url)?;
    let host = authority.strip_suffix(default_port(scheme))?.strip_suffix(':')?;
    Some(format!("{scheme}://{host}{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The published test vectors of Twilio's helper libraries (twilio-node, twilio-python).
    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const SIGNATURE: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
    const SIGNATURE_WITH_PORT: &str = "kvajT1Ptam85bY51eRf/AJRuM3w=";

    fn voice_params() -> FormParams {
        FormParams::from_pairs([
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ])
    }

    #[test]
    fn computes_the_published_signature() {
        assert_eq!(expected_signature(TOKEN, URL, &voice_params()), SIGNATURE);
    }

    #[test]
    fn parameter_order_does_not_matter() {
        let mut reversed: Vec<_> = voice_params().pairs().to_vec();
        reversed.reverse();
        assert_eq!(expected_signature(TOKEN, URL, &FormParams::from_pairs(reversed)), SIGNATURE);
    }

    #[test]
    fn validates_the_published_signature() {
        assert!(is_valid(TOKEN, SIGNATURE, URL, &voice_params()));
    }

    #[test]
    fn validates_a_signature_made_with_the_default_port() {
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert_eq!(expected_signature(TOKEN, with_port, &voice_params()), SIGNATURE_WITH_PORT);
        assert!(is_valid(TOKEN, SIGNATURE_WITH_PORT, URL, &voice_params()));
        assert!(is_valid(TOKEN, SIGNATURE, with_port, &voice_params()));
    }

    #[test]
    fn repeated_keys_are_sorted_by_value() {
        let repeated = FormParams::from_pairs([
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]);
        let payload = signing_payload(URL, &repeated);
        assert!(payload.contains("Digits1234Digits5678"), "{payload}");
        // Computed by twilio-node's getExpectedTwilioSignature for the same request.
        assert_eq!(expected_signature(TOKEN, URL, &repeated), "1F55Y6EDsEviuHKQm9BIkrznRZk=");
        assert!(is_valid(TOKEN, "1F55Y6EDsEviuHKQm9BIkrznRZk=", URL, &repeated));
    }

    #[test]
    fn an_identical_repeated_pair_counts_once() {
        let mut doubled = voice_params().pairs().to_vec();
        doubled.push(("Digits".into(), "1234".into()));
        assert_eq!(expected_signature(TOKEN, URL, &FormParams::from_pairs(doubled)), SIGNATURE);
    }

    #[test]
    fn refuses_changes_to_anything_signed() {
        let mut changed = voice_params().pairs().to_vec();
        changed[2].1 = "9999".into();
        assert!(!is_valid(TOKEN, SIGNATURE, URL, &FormParams::from_pairs(changed)));
        assert!(!is_valid("54321", SIGNATURE, URL, &voice_params()));
        assert!(!is_valid(TOKEN, SIGNATURE, "https://mycompany.com/other.php?foo=1&bar=2", &voice_params()));
        assert!(!is_valid(TOKEN, SIGNATURE, "https://mycompany.com:8443/myapp.php?foo=1&bar=2", &voice_params()));
        assert!(!is_valid(TOKEN, "", URL, &voice_params()));
        assert!(!is_valid(TOKEN, "not base64!", URL, &voice_params()));
        assert!(!is_valid(TOKEN, &SIGNATURE[..20], URL, &voice_params()));
    }

    #[test]
    fn adds_and_removes_only_the_default_port() {
        assert_eq!(url_with_default_port("https://a.example/x?y=1").as_deref(), Some("https://a.example:443/x?y=1"));
        assert_eq!(url_with_default_port("http://a.example").as_deref(), Some("http://a.example:80"));
        assert_eq!(url_with_default_port("http://127.0.0.1:8787/x"), None);
        assert_eq!(url_with_default_port("http://[::1]/x").as_deref(), Some("http://[::1]:80/x"));
        assert_eq!(url_without_default_port("https://a.example:443/x").as_deref(), Some("https://a.example/x"));
        assert_eq!(url_without_default_port("http://a.example:80?x").as_deref(), Some("http://a.example?x"));
        assert_eq!(url_without_default_port("https://a.example:8443/x"), None);
        assert_eq!(url_without_default_port("http://a.example:443/x"), None);
        assert_eq!(url_with_default_port("ftp://a.example/x"), None);
    }
}
