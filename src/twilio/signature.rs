//! `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, URL + sorted POST parameters)).
//!
//! Small functions in the shape of twilio-node's `webhooks.ts`, so each rule can be checked
//! against Twilio's own helper libraries.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::form::FormParams;
use super::signed_url;

type HmacSha1 = Hmac<Sha1>;

/// The parameters as Twilio appends them to the URL: each as `key` + `value`, sorted by key
/// and, for a repeated key, by value; a value repeated under the same key counts once (as in
/// twilio-node and twilio-python).
fn params_payload(params: &FormParams) -> String {
    let mut pairs: Vec<&(String, String)> = params.pairs().iter().collect();
    pairs.sort();
    pairs.dedup();
    pairs.iter().fold(String::new(), |mut payload, (key, value)| {
        payload.push_str(key);
        payload.push_str(value);
        payload
    })
}

/// The text Twilio signs: the URL, then the parameters.
pub fn signing_payload(url: &str, params: &FormParams) -> String {
    format!("{url}{}", params_payload(params))
}

fn mac_of(auth_token: &str, url: &str, params_payload: &str) -> HmacSha1 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    mac.update(params_payload.as_bytes());
    mac
}

/// The signature Twilio would send for this URL and parameters.
pub fn expected_signature(auth_token: &str, url: &str, params: &FormParams) -> String {
    BASE64.encode(mac_of(auth_token, url, &params_payload(params)).finalize().into_bytes())
}

/// Checks `signature` against every spelling of `url` that Twilio's own validator accepts (see
/// [`signed_url::candidates`]), in constant time for each.
pub fn is_valid(auth_token: &str, signature: &str, url: &str, params: &FormParams) -> bool {
    let Ok(claimed) = BASE64.decode(signature.trim()) else {
        return false;
    };
    let payload = params_payload(params);
    let matches = |candidate: &str| mac_of(auth_token, candidate, &payload).verify_slice(&claimed).is_ok();
    // The URL as seen is what TaskRouter signs almost always: the other spellings (and the
    // query parsing they need) are only built when it does not match.
    matches(url) || signed_url::candidates(url).iter().skip(1).any(|candidate| matches(candidate))
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
        assert!(!is_valid(TOKEN, SIGNATURE, "https://mycompany.com/myapp.php?foo=1&bar=3", &voice_params()));
        assert!(!is_valid(TOKEN, SIGNATURE, "https://othercompany.com/myapp.php?foo=1&bar=2", &voice_params()));
        assert!(!is_valid(TOKEN, "", URL, &voice_params()));
        assert!(!is_valid(TOKEN, "not base64!", URL, &voice_params()));
        assert!(!is_valid(TOKEN, &SIGNATURE[..20], URL, &voice_params()));
    }

    #[test]
    fn accepts_the_port_stripped_url_as_twilio_node_does() {
        // twilio-node's removePort drops any port, so a signature over the URL without it is
        // valid for a request that arrived on another port.
        assert!(is_valid(TOKEN, SIGNATURE, "https://mycompany.com:8443/myapp.php?foo=1&bar=2", &voice_params()));
        let on_port = expected_signature(TOKEN, "https://mycompany.com:8443/myapp.php?foo=1&bar=2", &voice_params());
        assert!(is_valid(TOKEN, &on_port, "https://mycompany.com:8443/myapp.php?foo=1&bar=2", &voice_params()));
        assert!(!is_valid(TOKEN, &on_port, URL, &voice_params()), "a signature for port 8443 does not fit port 443");
    }

    #[test]
    fn accepts_a_query_the_runtime_re_encoded() {
        let configured = "https://mycompany.com/myapp.php?name=O'Brien";
        let signature = expected_signature(TOKEN, configured, &voice_params());
        assert!(is_valid(TOKEN, &signature, "https://mycompany.com/myapp.php?name=O%27Brien", &voice_params()));
    }
}
