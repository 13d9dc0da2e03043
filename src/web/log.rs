//! One JSON line per request, for `wrangler tail`. Built only from what is safe to print: no
//! header, body, token or signature ever goes in.

use serde::Serialize;

use taskrouter_core::models::ReservationSid;
use taskrouter_core::store::Operations;

#[derive(Debug, Clone, Serialize)]
pub struct RequestLog {
    pub method: String,
    pub route: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_sid: Option<ReservationSid>,
    /// What happened: a success word (`stored`, `listed`, …) or the error code.
    pub outcome: &'static str,
    /// What a request from Twilio had to be signed with: the SharedKey's id (or
    /// `TWILIO_AUTH_TOKEN`) and the algorithm, whether it matched or not. Never a secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_with: Option<SignedWith>,
    /// Who made an operator's request: an email, a service token, or `operator token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// For a callback the hub could not take at once: `untold` (it is handed over after the
    /// answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hub: Option<&'static str>,
    /// What went wrong beside the answer (the hub, a record not written), in plain words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The assignment instruction answered, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instruction: Option<String>,
    /// The KV operations the request made before it was answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv: Option<Operations>,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignedWith {
    pub key: String,
    pub algorithm: &'static str,
}

impl RequestLog {
    pub fn new(method: &str, route: &str) -> RequestLog {
        RequestLog {
            method: method.to_owned(),
            route: route.to_owned(),
            status: 0,
            reservation_sid: None,
            outcome: "unanswered",
            signed_with: None,
            actor: None,
            hub: None,
            error: None,
            instruction: None,
            kv: None,
            duration_ms: 0,
        }
    }

    pub fn line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_json_object() {
        let mut log = RequestLog::new("POST", "/assignment_callback");
        log.status = 200;
        log.outcome = "stored";
        log.reservation_sid = Some(format!("WR{}", "a".repeat(32)).parse().unwrap());
        let line = log.line();
        assert!(!line.contains('\n'));
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["route"], "/assignment_callback");
        assert_eq!(parsed["status"], 200);
        assert_eq!(parsed["outcome"], "stored");
    }
}
