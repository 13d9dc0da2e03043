//! Who an operator is. Cloudflare Access, when it stands in front of the worker, signs each
//! request it lets through with a JWT (`Cf-Access-Jwt-Assertion`): RS256, by a key of the team's
//! JWKS, for the application's AUD tag. The worker checks it ([`token`]) rather than trusting
//! that Access is there, and takes the person's email or the service token's name as the
//! [`Actor`] of everything the request decides. The shared bearer token stays for local
//! development and for deployments without Access ([`OperatorAuth`] says which is accepted).
//!
//! The signature itself is the platform's: WebCrypto's `RSASSA-PKCS1-v1_5` in the worker, behind
//! [`token::SignatureCheck`] (the host tests check with the `rsa` crate). Everything else, the
//! token's shape, its header, its key, its claims and their times, is here, tested on the host.

pub mod actor;
pub mod settings;
pub mod token;

pub use actor::Actor;
pub use settings::{AccessSettings, OperatorAuth};
