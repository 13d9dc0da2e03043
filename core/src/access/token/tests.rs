//! Tokens signed on the host with a test key pair (made for these tests, secret to nobody),
//! checked by the same code the worker runs; the signature by the `rsa` crate, as WebCrypto
//! checks it in the worker.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::{BoxedUint, PrivateKey, PublicKey};
use serde_json::{Value, json};
use sha2::Sha256;

use super::*;
use crate::flows::finish;

const TEAM: &str = "https://acme.cloudflareaccess.com";
const AUD: &str = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";
const NOW: u64 = 1_800_000_000;

fn key(pem: &str) -> PrivateKey {
    PrivateKey::from_pkcs8_pem(pem).unwrap()
}

fn ours() -> PrivateKey {
    key(include_str!("test_key.pem"))
}

fn theirs() -> PrivateKey {
    key(include_str!("other_key.pem"))
}

fn jwk(kid: &str, key: &PrivateKey) -> Jwk {
    let public = key.to_public_key();
    Jwk {
        kid: kid.into(),
        kty: "RSA".into(),
        n: URL_SAFE_NO_PAD.encode(public.n().to_be_bytes_trimmed_vartime()),
        e: URL_SAFE_NO_PAD.encode(public.e().to_be_bytes_trimmed_vartime()),
    }
}

fn keys() -> Jwks {
    Jwks { keys: vec![jwk("old", &theirs()), jwk("k1", &ours())] }
}

fn settings() -> AccessSettings {
    AccessSettings { issuer: TEAM.into(), audience: AUD.into() }
}

fn part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn signed(header: &Value, claims: &Value, key: &PrivateKey) -> String {
    let body = format!("{}.{}", part(header), part(claims));
    let signature = SigningKey::<Sha256>::new(key.clone()).sign(body.as_bytes());
    format!("{body}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn person() -> Value {
    json!({ "aud": [AUD], "iss": TEAM, "exp": NOW + 600, "nbf": NOW - 10, "iat": NOW - 10, "email": "ana@example.com", "sub": "7335d417" })
}

fn token(claims: Value) -> String {
    signed(&json!({ "alg": "RS256", "kid": "k1", "typ": "JWT" }), &claims, &ours())
}

/// The host's stand-in for WebCrypto.
struct Rsa;

impl SignatureCheck for Rsa {
    async fn verify(&self, key: &Jwk, signed: &[u8], signature: &[u8]) -> Result<bool, UnusableKey> {
        let number = |text: &str| {
            URL_SAFE_NO_PAD
                .decode(text)
                .map(|bytes| BoxedUint::from_be_slice_vartime(&bytes))
                .map_err(|e| UnusableKey(e.to_string()))
        };
        let public = PublicKey::new(number(&key.n)?, number(&key.e)?).map_err(|e| UnusableKey(e.to_string()))?;
        let Ok(signature) = Signature::try_from(signature) else { return Ok(false) };
        Ok(VerifyingKey::<Sha256>::new(public).verify(signed, &signature).is_ok())
    }
}

fn checked(token: &str) -> Result<Actor, AccessError> {
    finish(check(token, &settings(), &keys(), &Rsa, NOW))
}

#[test]
fn a_persons_token_and_a_service_tokens_name_who_they_are() {
    assert_eq!(checked(&token(person())), Ok(Actor::Person("ana@example.com".into())));
    let service = json!({ "aud": AUD, "iss": TEAM, "exp": NOW + 600, "common_name": "abc123.access", "sub": "" });
    assert_eq!(checked(&token(service)), Ok(Actor::ServiceToken("abc123.access".into())));
}

#[test]
fn every_way_a_token_can_be_wrong_is_refused_and_named() {
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = person();
        change(&mut claims);
        token(claims)
    };
    let cases: Vec<(&str, String, AccessError)> = vec![
        ("expired", with(&|c| c["exp"] = json!(NOW - LEEWAY_SECS - 1)), AccessError::Expired),
        ("not yet valid", with(&|c| c["nbf"] = json!(NOW + LEEWAY_SECS + 5)), AccessError::NotYetValid),
        ("another application", with(&|c| c["aud"] = json!(["another-aud"])), AccessError::Audience),
        ("another team", with(&|c| c["iss"] = json!("https://evil.cloudflareaccess.com")), AccessError::Issuer),
        (
            "nobody",
            with(&|c| {
                c.as_object_mut().unwrap().remove("email");
            }),
            AccessError::NoIdentity,
        ),
        (
            "an unknown kid",
            signed(&json!({ "alg": "RS256", "kid": "k9" }), &person(), &ours()),
            AccessError::UnknownKey("k9".into()),
        ),
        (
            "alg none",
            format!("{}.{}.", part(&json!({ "alg": "none", "kid": "k1" })), part(&person())),
            AccessError::Algorithm("none".into()),
        ),
        (
            "signed by another key",
            signed(&json!({ "alg": "RS256", "kid": "k1" }), &person(), &theirs()),
            AccessError::BadSignature,
        ),
        (
            "truncated",
            {
                let t = token(person());
                t[..t.len() - 10].to_owned()
            },
            AccessError::BadSignature,
        ),
        (
            "two parts",
            {
                let t = token(person());
                t[..t.rfind('.').unwrap()].to_owned()
            },
            AccessError::Malformed("it is not three parts"),
        ),
        (
            "not base64url",
            format!("{}.{}.@@@", part(&json!({ "alg": "RS256", "kid": "k1" })), part(&person())),
            AccessError::Malformed("a part is not base64url"),
        ),
        ("empty", String::new(), AccessError::Missing),
    ];
    for (what, token, expected) in cases {
        let refused = checked(&token).unwrap_err();
        assert_eq!(refused, expected, "{what}");
        assert!(refused.is_refusal());
        let said = refused.to_string();
        assert!(
            token.split('.').all(|part| part.len() < 8 || !said.contains(part)),
            "{what}: the message never repeats the token"
        );
    }
}

#[test]
fn hs256_signed_with_the_public_key_is_refused() {
    // The classic confusion: an HMAC over the token with the RSA public key as its secret.
    use hmac::{Hmac, KeyInit, Mac};
    let public = jwk("k1", &ours());
    let body = format!("{}.{}", part(&json!({ "alg": "HS256", "kid": "k1" })), part(&person()));
    let mut mac = Hmac::<Sha256>::new_from_slice(public.n.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let forged = format!("{body}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
    assert_eq!(checked(&forged), Err(AccessError::Algorithm("HS256".into())));
}

#[test]
fn a_re_encoded_token_keeps_its_signature_only_byte_for_byte() {
    // The same claims, encoded again with padding, or with their JSON reformatted: the signature
    // covers the bytes sent, so neither passes.
    let good = token(person());
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = base64::engine::general_purpose::URL_SAFE.encode(person().to_string());
    assert!(checked(&parts.join(".")).is_err(), "padded");
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_string_pretty(&person()).unwrap());
    assert_eq!(checked(&parts.join(".")), Err(AccessError::BadSignature), "reformatted");
}

#[test]
fn the_clock_skew_allowed_is_small_and_both_ways() {
    let at_edge = |exp, nbf| {
        let mut claims = person();
        claims["exp"] = json!(exp);
        claims["nbf"] = json!(nbf);
        checked(&token(claims))
    };
    assert!(at_edge(NOW - LEEWAY_SECS + 1, NOW - 100).is_ok(), "expired a moment ago, within the skew");
    assert!(at_edge(NOW + 600, NOW + LEEWAY_SECS).is_ok(), "valid in a moment, within the skew");
    assert_eq!(at_edge(NOW - LEEWAY_SECS, NOW - 100), Err(AccessError::Expired));
}
