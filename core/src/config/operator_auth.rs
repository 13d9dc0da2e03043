//! `OPERATOR_AUTH`, `ACCESS_TEAM_DOMAIN` and `ACCESS_AUD`, read into [`OperatorAuth`].

use super::{ConfigError, invalid, origin};
use crate::access::{AccessSettings, OperatorAuth};

impl OperatorAuth {
    /// From the three variables (unset: `None`). With Access configured `OPERATOR_AUTH` defaults
    /// to `access`; without, to `token`. Naming `access` without configuring it is an error, not
    /// a silent fallback to the token.
    pub fn read(
        mode: Option<&str>,
        team_domain: Option<&str>,
        audience: Option<&str>,
    ) -> Result<OperatorAuth, ConfigError> {
        let access = match (team_domain.map(str::trim), audience.map(str::trim)) {
            (Some(domain), Some(audience)) => {
                Some(AccessSettings { issuer: origin("ACCESS_TEAM_DOMAIN", domain)?, audience: audience.to_owned() })
            }
            (None, None) => None,
            (Some(_), None) => return Err(invalid("ACCESS_AUD", "unset while ACCESS_TEAM_DOMAIN is set")),
            (None, Some(_)) => return Err(invalid("ACCESS_TEAM_DOMAIN", "unset while ACCESS_AUD is set")),
        };
        let (wants_access, wants_token) = match mode.map(str::trim) {
            None => (access.is_some(), access.is_none()),
            Some(mode) => {
                let mut wanted = (false, false);
                for part in mode.split(',').map(str::trim) {
                    match part {
                        "access" => wanted.0 = true,
                        "token" => wanted.1 = true,
                        other => {
                            return Err(invalid(
                                "OPERATOR_AUTH",
                                format!("{other:?} is not access or token: use access, token, or access,token"),
                            ));
                        }
                    }
                }
                wanted
            }
        };
        if wants_access && access.is_none() {
            return Err(invalid("OPERATOR_AUTH", "names access, but ACCESS_TEAM_DOMAIN and ACCESS_AUD are not set"));
        }
        Ok(OperatorAuth { access: access.filter(|_| wants_access), token: wants_token })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEAM: &str = "https://acme.cloudflareaccess.com";

    #[test]
    fn access_is_the_default_once_configured_and_never_by_accident() {
        assert_eq!(OperatorAuth::read(None, None, None).unwrap(), OperatorAuth { access: None, token: true });
        let access = OperatorAuth::read(None, Some(TEAM), Some("aud")).unwrap();
        assert_eq!((access.describe(), access.token), ("access", false));
        assert_eq!(access.access.unwrap().certs_url(), format!("{TEAM}/cdn-cgi/access/certs"));
        let both = OperatorAuth::read(Some("access, token"), Some(&format!("{TEAM}/")), Some("aud")).unwrap();
        assert_eq!(both.describe(), "access,token");
        assert_eq!(OperatorAuth::read(Some("token"), Some(TEAM), Some("aud")).unwrap().access, None);
        assert_eq!(OperatorAuth::read(Some("access"), None, None).unwrap_err().name, "OPERATOR_AUTH");
        assert_eq!(OperatorAuth::read(Some("jwt"), None, None).unwrap_err().name, "OPERATOR_AUTH");
        assert_eq!(OperatorAuth::read(None, Some(TEAM), None).unwrap_err().name, "ACCESS_AUD");
        assert_eq!(
            OperatorAuth::read(None, Some("acme.cloudflareaccess.com"), Some("aud")).unwrap_err().name,
            "ACCESS_TEAM_DOMAIN"
        );
        assert_eq!(
            OperatorAuth::read(None, Some("https://acme/x"), Some("aud")).unwrap_err().name,
            "ACCESS_TEAM_DOMAIN"
        );
    }
}
