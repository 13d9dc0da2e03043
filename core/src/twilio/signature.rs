//! `X-Twilio-Signature`: base64(HMAC(key, URL + sorted POST parameters)). The key is the account's
//! Auth Token and the hash SHA-1, unless a Webhook Rule signs the webhook with a SharedKey: then
//! `X-Twilio-Webhooks-Signature-Settings` names the key (`key=<id>`) and the hash
//! (`algorithm=HMAC_SHA256`, or `HMAC_SHA1`).
//!
//! Small functions in the shape of twilio-node's `webhooks.ts`, so each rule can be checked
//! against Twilio's own helper libraries.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

use super::form::FormParams;
use super::signed_url;

/// The header a Webhook Rule's SharedKey signing adds.
pub const SETTINGS_HEADER: &str = "x-twilio-webhooks-signature-settings";

/// The hash of a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    HmacSha1,
    HmacSha256,
}

impl Algorithm {
    /// The name Twilio writes it with.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::HmacSha1 => "HMAC_SHA1",
            Algorithm::HmacSha256 => "HMAC_SHA256",
        }
    }

    /// A name as twilio-node's `toHashName` reads it: without regard to case.
    pub fn named(name: &str) -> Option<Algorithm> {
        match name.to_ascii_uppercase().as_str() {
            "HMAC_SHA1" => Some(Algorithm::HmacSha1),
            "HMAC_SHA256" => Some(Algorithm::HmacSha256),
            _ => None,
        }
    }
}

/// The value of the first comma-separated part of the settings header whose trimmed name is
/// `name` and whose trimmed value is not empty, as twilio-node's `getSignatureAlgorithm` reads
/// `algorithm` (the name's case counts).
fn setting<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(',').find_map(|part| {
        let (key, value) = part.split_once('=')?;
        let value = value.trim();
        (key.trim() == name && !value.is_empty()).then_some(value)
    })
}

/// What `X-Twilio-Webhooks-Signature-Settings` says: the SharedKey's id (when it names one) and
/// the algorithm's name, `HMAC_SHA1` when it names none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureSettings<'a> {
    pub key: Option<&'a str>,
    pub algorithm: &'a str,
}

impl<'a> SignatureSettings<'a> {
    pub fn read(header: &'a str) -> SignatureSettings<'a> {
        SignatureSettings {
            key: setting(header, "key"),
            algorithm: setting(header, "algorithm").unwrap_or("HMAC_SHA1"),
        }
    }
}

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

/// HMAC accepts keys of any length, so making one cannot fail.
fn mac<M: Mac + hmac::digest::KeyInit>(key: &str, url: &str, params_payload: &str) -> M {
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    mac.update(params_payload.as_bytes());
    mac
}

fn digest(key: &str, url: &str, params_payload: &str, algorithm: Algorithm) -> Vec<u8> {
    match algorithm {
        Algorithm::HmacSha1 => mac::<Hmac<Sha1>>(key, url, params_payload).finalize().into_bytes().to_vec(),
        Algorithm::HmacSha256 => mac::<Hmac<Sha256>>(key, url, params_payload).finalize().into_bytes().to_vec(),
    }
}

/// The signature Twilio would send for this URL and parameters, made with `key` (the Auth Token
/// or a SharedKey's secret).
pub fn expected_signature(key: &str, url: &str, params: &FormParams, algorithm: Algorithm) -> String {
    BASE64.encode(digest(key, url, &params_payload(params), algorithm))
}

/// Checks `signature` against every spelling of `url` that Twilio's own validator accepts (see
/// [`signed_url::candidates`]), in constant time for each.
pub fn is_valid(key: &str, signature: &str, url: &str, params: &FormParams, algorithm: Algorithm) -> bool {
    let Ok(claimed) = BASE64.decode(signature.trim()) else {
        return false;
    };
    let payload = params_payload(params);
    let matches = |candidate: &str| {
        use subtle::ConstantTimeEq;
        bool::from(digest(key, candidate, &payload, algorithm).ct_eq(&claimed))
    };
    // The URL as seen is what TaskRouter signs almost always: the other spellings (and the
    // query parsing they need) are only built when it does not match.
    matches(url) || signed_url::candidates(url).iter().skip(1).any(|candidate| matches(candidate))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA1: Algorithm = Algorithm::HmacSha1;

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
        assert_eq!(expected_signature(TOKEN, URL, &voice_params(), SHA1), SIGNATURE);
    }

    #[test]
    fn parameter_order_does_not_matter() {
        let mut reversed: Vec<_> = voice_params().pairs().to_vec();
        reversed.reverse();
        assert_eq!(expected_signature(TOKEN, URL, &FormParams::from_pairs(reversed), SHA1), SIGNATURE);
    }

    #[test]
    fn validates_the_published_signature() {
        assert!(is_valid(TOKEN, SIGNATURE, URL, &voice_params(), SHA1));
    }

    #[test]
    fn validates_a_signature_made_with_the_default_port() {
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert_eq!(expected_signature(TOKEN, with_port, &voice_params(), SHA1), SIGNATURE_WITH_PORT);
        assert!(is_valid(TOKEN, SIGNATURE_WITH_PORT, URL, &voice_params(), SHA1));
        assert!(is_valid(TOKEN, SIGNATURE, with_port, &voice_params(), SHA1));
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
        let payload = format!("{URL}{}", params_payload(&repeated));
        assert!(payload.contains("Digits1234Digits5678"), "{payload}");
        // Computed by twilio-node's getExpectedTwilioSignature for the same request.
        assert_eq!(expected_signature(TOKEN, URL, &repeated, SHA1), "1F55Y6EDsEviuHKQm9BIkrznRZk=");
        assert!(is_valid(TOKEN, "1F55Y6EDsEviuHKQm9BIkrznRZk=", URL, &repeated, SHA1));
    }

    #[test]
    fn an_identical_repeated_pair_counts_once() {
        let mut doubled = voice_params().pairs().to_vec();
        doubled.push(("Digits".into(), "1234".into()));
        assert_eq!(expected_signature(TOKEN, URL, &FormParams::from_pairs(doubled), SHA1), SIGNATURE);
    }

    #[test]
    fn refuses_changes_to_anything_signed() {
        let mut changed = voice_params().pairs().to_vec();
        changed[2].1 = "9999".into();
        assert!(!is_valid(TOKEN, SIGNATURE, URL, &FormParams::from_pairs(changed), SHA1));
        assert!(!is_valid("54321", SIGNATURE, URL, &voice_params(), SHA1));
        assert!(!is_valid(TOKEN, SIGNATURE, "https://mycompany.com/other.php?foo=1&bar=2", &voice_params(), SHA1));
        assert!(!is_valid(TOKEN, SIGNATURE, "https://mycompany.com/myapp.php?foo=1&bar=3", &voice_params(), SHA1));
        assert!(!is_valid(TOKEN, SIGNATURE, "https://othercompany.com/myapp.php?foo=1&bar=2", &voice_params(), SHA1));
        assert!(!is_valid(TOKEN, "", URL, &voice_params(), SHA1));
        assert!(!is_valid(TOKEN, "not base64!", URL, &voice_params(), SHA1));
        assert!(!is_valid(TOKEN, &SIGNATURE[..20], URL, &voice_params(), SHA1));
    }

    #[test]
    fn accepts_the_port_stripped_url_as_twilio_node_does() {
        // twilio-node's removePort drops any port, so a signature over the URL without it is
        // valid for a request that arrived on another port.
        assert!(is_valid(TOKEN, SIGNATURE, "https://mycompany.com:8443/myapp.php?foo=1&bar=2", &voice_params(), SHA1));
        let on_port =
            expected_signature(TOKEN, "https://mycompany.com:8443/myapp.php?foo=1&bar=2", &voice_params(), SHA1);
        assert!(is_valid(TOKEN, &on_port, "https://mycompany.com:8443/myapp.php?foo=1&bar=2", &voice_params(), SHA1));
        assert!(
            !is_valid(TOKEN, &on_port, URL, &voice_params(), SHA1),
            "a signature for port 8443 does not fit port 443"
        );
    }

    #[test]
    fn hmac_sha256_is_the_same_text_under_another_hash() {
        // Computed by twilio-node 6.3.1's getExpectedTwilioSignature(secret, url, params, "HMAC_SHA256"),
        // and by twilio-python 9.13's RequestValidator.compute_signature.
        let params = FormParams::from_pairs([("To", "+1"), ("Body", "hi")]);
        let url = "https://example.com/hook?x=1";
        let signature = expected_signature("secret", url, &params, Algorithm::HmacSha256);
        assert_eq!(signature, "viEGEJVrfkPaSt8Hs3mK5e4lxHJaEkitrXCAdJoE15s=");
        assert!(is_valid("secret", &signature, url, &params, Algorithm::HmacSha256));
        assert!(!is_valid("secret", &signature, url, &params, SHA1), "no fallback from one hash to the other");
        let sha1 = expected_signature("secret", url, &params, SHA1);
        assert!(!is_valid("secret", &sha1, url, &params, Algorithm::HmacSha256));
    }

    #[test]
    fn the_settings_header_is_read_as_twilio_node_reads_it() {
        let read = |header| SignatureSettings::read(header);
        assert_eq!(
            read("key=webhooks_sharedkey_a,algorithm=HMAC_SHA256"),
            SignatureSettings { key: Some("webhooks_sharedkey_a"), algorithm: "HMAC_SHA256" }
        );
        assert_eq!(read(" key = K1 , algorithm = hmac_sha256 ").algorithm, "hmac_sha256");
        assert_eq!(read(" key = K1 , algorithm = hmac_sha256 ").key, Some("K1"));
        assert_eq!(read("key=K1").algorithm, "HMAC_SHA1", "no algorithm: HMAC_SHA1");
        assert_eq!(read("key=K1,algorithm=").algorithm, "HMAC_SHA1", "an empty one is skipped");
        assert_eq!(read("algorithm=,algorithm=HMAC_SHA256").algorithm, "HMAC_SHA256", "the first that is not empty");
        assert_eq!(read("Algorithm=HMAC_SHA256").algorithm, "HMAC_SHA1", "the part's name is compared as written");
        assert_eq!(read("algorithm=a=b").algorithm, "a=b", "split at the first =");
        assert_eq!(read("algorithm").key, None);
        assert_eq!(Algorithm::named("hmac_SHA256"), Some(Algorithm::HmacSha256));
        assert_eq!(Algorithm::named("HMAC_SHA512"), None);
    }

    #[test]
    fn accepts_a_query_the_runtime_re_encoded() {
        let configured = "https://mycompany.com/myapp.php?name=O'Brien";
        let signature = expected_signature(TOKEN, configured, &voice_params(), SHA1);
        assert!(is_valid(TOKEN, &signature, "https://mycompany.com/myapp.php?name=O%27Brien", &voice_params(), SHA1));
    }
}
