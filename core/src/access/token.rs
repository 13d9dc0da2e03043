//! An Access JWT, checked in the order that names the first thing wrong: its shape, its
//! header (`alg` RS256 only, a `kid`), its key in the team's JWKS, its signature, then its
//! claims (`iss`, `aud`, `exp` and `nbf` with [`LEEWAY_SECS`] of clock skew) and who it names.
//! A refusal says which check failed, never the token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::{AccessSettings, Actor};

/// The clock skew allowed on `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 60;

/// The longest token read: Access's are about 1 KB.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Why a token was refused, or could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("no Cf-Access-Jwt-Assertion header: sign in through Cloudflare Access")]
    Missing,
    #[error("the Access token is malformed: {0}")]
    Malformed(&'static str),
    #[error("the Access token is signed with {0:?}: only RS256 is accepted")]
    Algorithm(String),
    #[error("the Access token names a key ({0}) that is not in the team's keys")]
    UnknownKey(String),
    #[error("the Access token's signature does not match its key")]
    BadSignature,
    #[error("the Access token has expired: sign in again")]
    Expired,
    #[error("the Access token is not valid yet (nbf): check the clocks")]
    NotYetValid,
    #[error("the Access token was issued for another application (aud)")]
    Audience,
    #[error("the Access token was issued by another team (iss)")]
    Issuer,
    #[error("the Access token names nobody: no email and no service token")]
    NoIdentity,
    #[error("the team's Access keys could not be read ({0}): nothing is let in meanwhile")]
    KeysUnavailable(String),
}

impl AccessError {
    /// Whether the request, not the worker, is at fault (`401`); otherwise `503`.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, AccessError::KeysUnavailable(_))
    }
}

#[derive(Debug, Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

/// `aud`: one string or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, wanted: &str) -> bool {
        match self {
            Audience::One(one) => one == wanted,
            Audience::Many(many) => many.iter().any(|one| one == wanted),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Claims {
    aud: Audience,
    iss: String,
    exp: u64,
    nbf: Option<u64>,
    email: Option<String>,
    common_name: Option<String>,
}

/// One key of the team's JWKS (RSA).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Jwk {
    pub kid: String,
    pub kty: String,
    /// Modulus and exponent, base64url.
    pub n: String,
    pub e: String,
}

/// The team's keys, as `/cdn-cgi/access/certs` serves them (other members are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwks {
    pub fn key(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|key| key.kid == kid && key.kty == "RSA")
    }
}

/// A token split and read, its signature not yet checked.
pub struct Presented<'a> {
    /// `header.payload`, what the signature covers.
    pub signed: &'a str,
    pub signature: Vec<u8>,
    pub kid: String,
    claims: Claims,
}

fn decoded(part: &str) -> Result<Vec<u8>, AccessError> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| AccessError::Malformed("a part is not base64url"))
}

/// Splits and reads a token; checks its header.
pub fn read(token: &str) -> Result<Presented<'_>, AccessError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(AccessError::Missing);
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AccessError::Malformed("it is too long"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AccessError::Malformed("it is not three parts"));
    };
    let header: Header =
        serde_json::from_slice(&decoded(header)?).map_err(|_| AccessError::Malformed("its header is not JSON"))?;
    if header.alg != "RS256" {
        return Err(AccessError::Algorithm(crate::models::summary::clipped(&header.alg, 20)));
    }
    let kid = header.kid.ok_or(AccessError::Malformed("its header names no key (kid)"))?;
    let claims: Claims = serde_json::from_slice(&decoded(payload)?)
        .map_err(|_| AccessError::Malformed("its claims are not what Access signs"))?;
    let signed = &token[..token.len() - signature.len() - 1];
    Ok(Presented { signed, signature: decoded(signature)?, kid, claims })
}

/// Checks the claims of a token whose signature held; the actor it names.
pub fn admit(presented: &Presented<'_>, settings: &AccessSettings, now_secs: u64) -> Result<Actor, AccessError> {
    let claims = &presented.claims;
    if claims.iss.trim_end_matches('/') != settings.issuer {
        return Err(AccessError::Issuer);
    }
    if !claims.aud.contains(&settings.audience) {
        return Err(AccessError::Audience);
    }
    if claims.exp.saturating_add(LEEWAY_SECS) <= now_secs {
        return Err(AccessError::Expired);
    }
    if claims.nbf.is_some_and(|nbf| nbf > now_secs.saturating_add(LEEWAY_SECS)) {
        return Err(AccessError::NotYetValid);
    }
    match (&claims.email, &claims.common_name) {
        (Some(email), _) if !email.trim().is_empty() => Ok(Actor::Person(email.trim().to_owned())),
        (_, Some(name)) if !name.trim().is_empty() => Ok(Actor::ServiceToken(name.trim().to_owned())),
        _ => Err(AccessError::NoIdentity),
    }
}

/// RSASSA-PKCS1-v1_5 with SHA-256, by the platform.
#[allow(async_fn_in_trait)]
pub trait SignatureCheck {
    /// Whether `signature` is `key`'s over `signed`; `Err` when the key cannot be used at all.
    async fn verify(&self, key: &Jwk, signed: &[u8], signature: &[u8]) -> Result<bool, UnusableKey>;
}

/// A key the signature check could not use (its crypto's own words); the token is refused as
/// badly signed.
#[derive(Debug, thiserror::Error)]
#[error("the key cannot be used: {0}")]
pub struct UnusableKey(pub String);

/// The whole check, with the team's keys at hand: header, key, signature, claims.
pub async fn check(
    token: &str,
    settings: &AccessSettings,
    keys: &Jwks,
    signature: &impl SignatureCheck,
    now_secs: u64,
) -> Result<Actor, AccessError> {
    check_presented(&read(token)?, settings, keys, signature, now_secs).await
}

/// The check of a token already [`read`]: its key, signature and claims.
pub async fn check_presented(
    presented: &Presented<'_>,
    settings: &AccessSettings,
    keys: &Jwks,
    signature: &impl SignatureCheck,
    now_secs: u64,
) -> Result<Actor, AccessError> {
    let key = keys
        .key(&presented.kid)
        .ok_or_else(|| AccessError::UnknownKey(crate::models::summary::clipped(&presented.kid, 80)))?;
    match signature.verify(key, presented.signed.as_bytes(), &presented.signature).await {
        Ok(true) => admit(presented, settings, now_secs),
        Ok(false) | Err(_) => Err(AccessError::BadSignature),
    }
}

#[cfg(test)]
mod tests;
