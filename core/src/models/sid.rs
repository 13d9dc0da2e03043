//! Twilio SIDs as types: a value of `ReservationSid` can only hold `WR` + 32 lower-case hex digits,
//! Twilio's one spelling of it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// A string that is not a SID of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} must be {prefix} followed by 32 lower-case hex digits")]
pub struct SidError {
    pub kind: &'static str,
    pub prefix: &'static str,
}

const SID_HEX_DIGITS: usize = 32;

/// Twilio writes a SID's hex digits in lower case; upper case is refused, so that each
/// reservation has one spelling and one key.
fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == prefix.len() + SID_HEX_DIGITS
        && value.starts_with(prefix)
        && value[prefix.len()..].bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

macro_rules! sid_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The Twilio parameter name this SID travels under.
            pub const KIND: &'static str = stringify!($name);

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = SidError;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                if is_sid(value, $prefix) {
                    Ok(Self(value.to_owned()))
                } else {
                    Err(SidError { kind: Self::KIND, prefix: $prefix })
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                super::text::parsed(deserializer)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

sid_type!(
    /// A TaskRouter Reservation (`WR…`).
    ReservationSid,
    "WR"
);
sid_type!(
    /// A TaskRouter Task (`WT…`).
    TaskSid,
    "WT"
);
sid_type!(
    /// A TaskRouter Workspace (`WS…`).
    WorkspaceSid,
    "WS"
);
sid_type!(
    /// A TaskRouter Workflow (`WW…`).
    WorkflowSid,
    "WW"
);
sid_type!(
    /// A TaskRouter Worker (`WK…`).
    WorkerSid,
    "WK"
);
sid_type!(
    /// A TaskRouter TaskQueue (`WQ…`).
    TaskQueueSid,
    "WQ"
);
sid_type!(
    /// A Twilio Account (`AC…`).
    AccountSid,
    "AC"
);
sid_type!(
    /// A TaskRouter Activity (`WA…`).
    ActivitySid,
    "WA"
);

#[cfg(test)]
mod tests {
    use super::*;

    const HEX32: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn accepts_prefix_and_32_hex_digits() {
        let sid: ReservationSid = format!("WR{HEX32}").parse().unwrap();
        assert_eq!(sid.as_str(), format!("WR{HEX32}"));
        assert_eq!(sid.to_string(), format!("WR{HEX32}"));
    }

    #[test]
    fn refuses_every_other_shape() {
        for bad in [
            String::new(),
            "WR".to_owned(),
            format!("WT{HEX32}"),
            format!("wr{HEX32}"),
            format!("WR{}", &HEX32[1..]),
            format!("WR{HEX32}0"),
            format!("WR{}g", &HEX32[1..]),
            format!(" WR{}", &HEX32[1..]),
            format!("WR{}é", &HEX32[2..]),
            format!("WR{}", HEX32.to_ascii_uppercase()),
            format!("WR{}A", &HEX32[1..]),
        ] {
            let err = bad.parse::<ReservationSid>().unwrap_err();
            assert_eq!(err.to_string(), "ReservationSid must be WR followed by 32 lower-case hex digits");
        }
    }

    #[test]
    fn each_kind_checks_its_own_prefix() {
        assert!(format!("WT{HEX32}").parse::<TaskSid>().is_ok());
        assert!(format!("WS{HEX32}").parse::<WorkspaceSid>().is_ok());
        assert!(format!("WW{HEX32}").parse::<WorkflowSid>().is_ok());
        assert!(format!("WA{HEX32}").parse::<ActivitySid>().is_ok());
        assert_eq!(format!("WR{HEX32}").parse::<TaskSid>().unwrap_err().kind, "TaskSid");
    }

    #[test]
    fn deserializing_validates() {
        let ok: TaskSid = serde_json::from_str(&format!("\"WT{HEX32}\"")).unwrap();
        assert_eq!(ok.as_str(), format!("WT{HEX32}"));
        let err = serde_json::from_str::<TaskSid>("\"WTnope\"").unwrap_err().to_string();
        assert!(err.starts_with("TaskSid must be WT followed by 32 lower-case hex digits"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn a_sid_is_its_prefix_and_32_lower_hex_digits_and_reads_back_as_written(hex in "[0-9a-f]{32}") {
            let text = format!("WR{hex}");
            let sid: ReservationSid = text.parse().unwrap();
            proptest::prop_assert_eq!(sid.to_string(), text);
        }

        #[test]
        fn nothing_else_is_a_sid(text in "\\PC{0,40}") {
            let is_sid = text.len() == 34 && text.starts_with("WR")
                && text[2..].bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'));
            proptest::prop_assert_eq!(text.parse::<ReservationSid>().is_ok(), is_sid);
        }
    }
}
