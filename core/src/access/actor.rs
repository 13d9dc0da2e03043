//! Who took a decision, as it is recorded and shown.

use std::fmt;

/// Who made a request: a person signed in through Access, an Access service token, or whoever
/// holds the shared operator token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person, by the email Access signed in.
    Person(String),
    /// An Access service token, by its name (the JWT's `common_name`: its client id).
    ServiceToken(String),
    /// The shared `RESERVATIONS_API_TOKEN`: nobody in particular.
    OperatorToken,
}

/// The longest actor kept.
pub const ACTOR_CHARS: usize = 120;

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Person(email) => f.write_str(email),
            Actor::ServiceToken(name) => write!(f, "service token {name}"),
            Actor::OperatorToken => f.write_str("operator token"),
        }
    }
}

impl Actor {
    /// As recorded: the display form, clipped, without control characters.
    pub fn recorded(&self) -> String {
        crate::models::summary::clipped(&self.to_string(), ACTOR_CHARS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_actor_says_who() {
        assert_eq!(Actor::Person("ana@example.com".into()).recorded(), "ana@example.com");
        assert_eq!(Actor::ServiceToken("abc.access".into()).recorded(), "service token abc.access");
        assert_eq!(Actor::OperatorToken.recorded(), "operator token");
        assert_eq!(Actor::Person("a\nb".into()).recorded(), "a b", "no control characters");
    }
}
