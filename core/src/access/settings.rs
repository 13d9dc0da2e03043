//! What the operator routes accept. [`crate::config`] reads it from `OPERATOR_AUTH`,
//! `ACCESS_TEAM_DOMAIN` and `ACCESS_AUD`.

/// The Access application the worker sits behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSettings {
    /// The team domain, `https://<team>.cloudflareaccess.com`: the tokens' issuer; its keys are
    /// at `<issuer>/cdn-cgi/access/certs`.
    pub issuer: String,
    /// The application's AUD tag.
    pub audience: String,
}

impl AccessSettings {
    pub fn certs_url(&self) -> String {
        format!("{}/cdn-cgi/access/certs", self.issuer)
    }
}

/// What the operator routes accept: an Access JWT, the bearer token, or either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorAuth {
    pub access: Option<AccessSettings>,
    pub token: bool,
}

impl OperatorAuth {
    /// The names of the ways in, for `/health` and error messages.
    pub fn describe(&self) -> &'static str {
        match (self.access.is_some(), self.token) {
            (true, true) => "access,token",
            (true, false) => "access",
            (false, _) => "token",
        }
    }
}
