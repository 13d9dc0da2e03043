//! Every way a request can fail, and the HTTP answer each one gets: the one place where errors
//! become status codes and `{"error":{"code","message"}}` bodies.

use serde::Serialize;

use taskrouter_core::access::token::AccessError;
use taskrouter_core::config::ConfigError;
use taskrouter_core::config::rest::UnsetSecret;
use taskrouter_core::flows::FlowError;
use taskrouter_core::hub::claims::Claim;
use taskrouter_core::hub::port::HubError;
use taskrouter_core::hub::query::ListQueryError;
use taskrouter_core::models::{SidError, Status, Timestamp, UnknownStatus};
use taskrouter_core::store::StoreError;
use taskrouter_core::twilio::event_stream::BatchError;
use taskrouter_core::twilio::rest::RestError;
use taskrouter_core::twilio::{FormError, ParamsError};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    #[error("no route for {path}: see the README for the routes this worker serves")]
    NotFound { path: String },
    #[error("{method} is not allowed here: use {allow}")]
    MethodNotAllowed { method: String, allow: &'static str },
    #[error("the body must be {expected}; got {got}")]
    UnsupportedMediaType { expected: &'static str, got: String },
    #[error("the body is larger than the limit of {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("the body could not be read")]
    UnreadableBody,
    #[error(transparent)]
    Form(#[from] FormError),
    #[error(transparent)]
    Callback(#[from] ParamsError),
    #[error(transparent)]
    InvalidSid(#[from] SidError),
    #[error(transparent)]
    ListQuery(#[from] ListQueryError),
    #[error("{0}")]
    InvalidQuery(String),
    #[error("the body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error(transparent)]
    UnknownStatus(#[from] UnknownStatus),
    #[error("send the operator token as 'Authorization: Bearer <RESERVATIONS_API_TOKEN>'")]
    Unauthorized,
    /// A token was sent, and it is not the worker's: said apart from none at all, so that a
    /// stale or mistyped token is not taken for a missing one.
    #[error("the operator token sent is not this worker's RESERVATIONS_API_TOKEN: check for a stale or mistyped value")]
    TokenRefused,
    #[error("the X-Twilio-Signature header is missing: only TaskRouter may call this URL")]
    MissingSignature,
    #[error("the body is not the one the URL's bodySHA256 was signed for: Event Streams sends both, unchanged")]
    InvalidBodyHash,
    #[error(transparent)]
    Batch(#[from] BatchError),
    #[error(
        "the X-Twilio-Signature header does not match this request signed with {0}: check it and, behind a proxy or tunnel, PUBLIC_URL"
    )]
    InvalidSignature(String),
    #[error(
        "X-Twilio-Webhooks-Signature-Settings names the algorithm {0:?}: this worker checks HMAC_SHA1 and HMAC_SHA256"
    )]
    UnsupportedSignatureAlgorithm(String),
    #[error(
        "X-Twilio-Webhooks-Signature-Settings names the SharedKey {0:?}, which is not in TWILIO_WEBHOOK_SHARED_KEYS: add its secret there (during a rotation, both keys)"
    )]
    UnknownSigningKey(String),
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    /// What a flow could not do: the store, TaskRouter, a setting or the status model said no.
    #[error(transparent)]
    Flow(FlowError),
    /// The hub could not be asked, by a flow or before one: what the operator can do meanwhile.
    #[error(
        "the hub is not available ({0}): nothing was changed and nothing sent to TaskRouter; decide in Twilio's console meanwhile, and check the HUB Durable Object binding in wrangler.toml"
    )]
    HubUnavailable(HubError),
    /// Cloudflare Access: a token refused (which check failed), or the team's keys out of reach.
    #[error(transparent)]
    Access(AccessError),
    #[error(
        "open a WebSocket here (Upgrade: websocket), with the operator token as the 'bearer.<base64url>' subprotocol"
    )]
    UpgradeRequired,
    #[error("a page from {0} may not open the console's socket with Access's sign-in: only the worker's own pages may")]
    ForeignOrigin(String),
}

/// A flow's failure as an answer; the hub's gets the operator's way round it.
impl From<FlowError> for ApiError {
    fn from(error: FlowError) -> Self {
        match error {
            FlowError::Hub(error) => ApiError::HubUnavailable(error),
            error => ApiError::Flow(error),
        }
    }
}

/// The layers under the flows, met by a handler before any flow ran, answer as the flow would.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::Flow(FlowError::Store(error))
    }
}

impl From<HubError> for ApiError {
    fn from(error: HubError) -> Self {
        ApiError::HubUnavailable(error)
    }
}

impl From<UnsetSecret> for ApiError {
    fn from(error: UnsetSecret) -> Self {
        ApiError::Flow(FlowError::NotConfigured(error))
    }
}

impl From<RestError> for ApiError {
    fn from(error: RestError) -> Self {
        ApiError::Flow(FlowError::from(error))
    }
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::UnreadableBody
            | ApiError::Form(_)
            | ApiError::Callback(_)
            | ApiError::InvalidSid(_)
            | ApiError::ListQuery(_)
            | ApiError::InvalidQuery(_)
            | ApiError::InvalidJson(_)
            | ApiError::UnknownStatus(_)
            | ApiError::Batch(_) => 400,
            ApiError::Unauthorized | ApiError::TokenRefused => 401,
            ApiError::Access(error) if error.is_refusal() => 401,
            ApiError::Access(_) => 503,
            ApiError::MissingSignature
            | ApiError::InvalidBodyHash
            | ApiError::InvalidSignature(_)
            | ApiError::UnsupportedSignatureAlgorithm(_)
            | ApiError::UnknownSigningKey(_)
            | ApiError::ForeignOrigin(_) => 403,
            ApiError::NotFound { .. } | ApiError::Flow(FlowError::ReservationNotFound(_)) => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::Flow(
                FlowError::Transition(_)
                | FlowError::NoLongerPending { .. }
                | FlowError::DecisionInFlight { .. }
                | FlowError::AlreadyDecided { .. }
                | FlowError::NotClaimHolder { .. },
            ) => 409,
            ApiError::UpgradeRequired => 426,
            ApiError::BodyTooLarge { .. } => 413,
            ApiError::UnsupportedMediaType { .. } => 415,
            ApiError::Config(_)
            | ApiError::HubUnavailable(_)
            | ApiError::Flow(FlowError::Store(_) | FlowError::Hub(_) | FlowError::NotConfigured(_)) => 503,
            ApiError::Flow(FlowError::Twilio(_) | FlowError::TwilioUnreachable(_)) => 502,
            ApiError::Flow(FlowError::TwilioOutcomeUnknown { .. }) => 504,
        }
    }

    /// A stable snake_case name for scripts.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::BodyTooLarge { .. } => "body_too_large",
            ApiError::UnreadableBody => "unreadable_body",
            ApiError::Form(_) => "malformed_body",
            ApiError::Callback(ParamsError::Missing(_)) => "missing_parameter",
            ApiError::Callback(ParamsError::InvalidSid(_)) | ApiError::InvalidSid(_) => "invalid_sid",
            ApiError::ListQuery(_) | ApiError::InvalidQuery(_) => "invalid_query",
            ApiError::InvalidJson(_) => "invalid_json",
            ApiError::UnknownStatus(_) => "unknown_status",
            ApiError::Unauthorized | ApiError::TokenRefused => "unauthorized",
            ApiError::Access(error) if error.is_refusal() => "access_denied",
            ApiError::Access(_) => "access_unavailable",
            ApiError::MissingSignature => "missing_signature",
            ApiError::InvalidBodyHash => "invalid_body_hash",
            ApiError::Batch(_) => "invalid_batch",
            ApiError::InvalidSignature(_) => "invalid_signature",
            ApiError::UnsupportedSignatureAlgorithm(_) => "unsupported_signature_algorithm",
            ApiError::UnknownSigningKey(_) => "unknown_signing_key",
            ApiError::HubUnavailable(_) => "hub_unavailable",
            ApiError::Config(_) => "invalid_configuration",
            ApiError::Flow(error) => match error {
                FlowError::ReservationNotFound(_) => "reservation_not_found",
                FlowError::NotConfigured(_) => "not_configured",
                FlowError::Transition(_) => "invalid_transition",
                FlowError::Store(_) => "store_unavailable",
                FlowError::Hub(_) => "hub_unavailable",
                FlowError::Twilio(error) => match **error {
                    RestError::Refused { .. } => "twilio_refused",
                    RestError::Lost(_) | RestError::Dropped(_) | RestError::Unreachable(_) => "twilio_unreachable",
                    RestError::Unexpected(_) => "twilio_unexpected_answer",
                },
                FlowError::TwilioOutcomeUnknown { .. } => "twilio_outcome_unknown",
                FlowError::NoLongerPending { .. } => "no_longer_pending",
                FlowError::TwilioUnreachable(_) => "twilio_unreachable",
                FlowError::DecisionInFlight { .. } => "decision_in_flight",
                FlowError::AlreadyDecided { .. } => "already_decided",
                FlowError::NotClaimHolder { .. } => "claim_not_held",
            },
            ApiError::UpgradeRequired => "upgrade_required",
            ApiError::ForeignOrigin(_) => "foreign_origin",
        }
    }

    /// The `Allow` header a 405 carries.
    pub fn allow(&self) -> Option<&'static str> {
        match self {
            ApiError::MethodNotAllowed { allow, .. } => Some(allow),
            _ => None,
        }
    }

    pub fn body(&self) -> String {
        // What Twilio said, for a client that shows it: its status and error code, and the
        // reservation's real status when it is no longer pending; the claim in the way, or the
        // status already settled; until when the caller's own claim holds, when the outcome is
        // unknown.
        let mut detail = ErrorDetail { code: self.code(), message: self.to_string(), ..ErrorDetail::default() };
        if let ApiError::Flow(error) = self {
            match error {
                FlowError::Twilio(twilio) => {
                    if let RestError::Refused { status, body, .. } = &**twilio {
                        detail.twilio =
                            Some(TwilioSaid { status: *status, code: body.code, more_info: body.more_info.as_deref() });
                    }
                }
                FlowError::NoLongerPending { status, .. } => detail.twilio_status = Some(*status),
                FlowError::DecisionInFlight { claim, .. } => detail.in_flight = Some(claim.clone()),
                FlowError::AlreadyDecided { status, at, .. } => {
                    detail.settled = Some(Settled { status: *status, at: *at })
                }
                FlowError::TwilioOutcomeUnknown { until, .. } => detail.until = Some(*until),
                _ => {}
            }
        }
        serde_json::to_string(&ErrorBody { error: detail }).unwrap_or_default()
    }
}
/// `{"error":{"code","message"}}`, and what Twilio said when it refused.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize, Default)]
struct ErrorDetail<'a> {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    twilio: Option<TwilioSaid<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    twilio_status: Option<Status>,
    /// The decision being taken, for `decision_in_flight`.
    #[serde(skip_serializing_if = "Option::is_none")]
    in_flight: Option<Claim>,
    /// The reservation's status, for `already_decided`.
    #[serde(skip_serializing_if = "Option::is_none")]
    settled: Option<Settled>,
    /// For `twilio_outcome_unknown`: until when the caller's own claim holds (the decision can
    /// be tried again after it, if the reservation is still pending).
    #[serde(skip_serializing_if = "Option::is_none")]
    until: Option<Timestamp>,
}

#[derive(Serialize)]
struct Settled {
    status: Status,
    at: Timestamp,
}

#[derive(Serialize)]
struct TwilioSaid<'a> {
    status: u16,
    code: Option<u64>,
    more_info: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskrouter_core::models::{ReservationSid, TransitionError};

    #[test]
    fn bodies_are_the_documented_json_shape() {
        let body: serde_json::Value =
            serde_json::from_str(&ApiError::from(UnsetSecret("TWILIO_AUTH_TOKEN")).body()).unwrap();
        assert_eq!(body["error"]["code"], "not_configured");
        assert_eq!(
            body["error"]["message"],
            "TWILIO_AUTH_TOKEN is not set: run 'wrangler secret put TWILIO_AUTH_TOKEN' (or add it to .dev.vars)"
        );
        assert_eq!(ApiError::from(UnsetSecret("X")).status(), 503);
    }

    #[test]
    fn every_flow_error_has_its_own_status_and_code() {
        let sid: ReservationSid = format!("WR{}", "a".repeat(32)).parse().unwrap();
        let refused = |status| RestError::Refused { status, body: Default::default(), retried: false };
        let store = StoreError::Unavailable { action: "reading the store", reason: "KV GET failed".into() };
        let cases: Vec<(FlowError, u16, &str)> = vec![
            (FlowError::Store(store.clone()), 503, "store_unavailable"),
            (
                FlowError::Store(StoreError::RateLimited { action: "writing the store", reason: "429".into() }),
                503,
                "store_unavailable",
            ),
            (FlowError::ReservationNotFound(sid.clone()), 404, "reservation_not_found"),
            (FlowError::NotConfigured(UnsetSecret("TWILIO_AUTH_TOKEN")), 503, "not_configured"),
            (
                FlowError::Transition(TransitionError { from: Status::Completed, to: Status::Pending }),
                409,
                "invalid_transition",
            ),
            (refused(401).into(), 502, "twilio_refused"),
            (RestError::Unreachable("refused".into()).into(), 502, "twilio_unreachable"),
            (RestError::Lost("dropped".into()).into(), 502, "twilio_unreachable"),
            (RestError::Dropped("refused".into()).into(), 502, "twilio_unreachable"),
            (RestError::Unexpected("html".into()).into(), 502, "twilio_unexpected_answer"),
            (
                FlowError::TwilioOutcomeUnknown {
                    refusal: Box::new(RestError::Lost("dropped".into())),
                    read_error: Box::new(RestError::Unreachable("refused".into())),
                    decision: taskrouter_core::hub::claims::Decision::Accept,
                    until: Timestamp::from_millis(0),
                },
                504,
                "twilio_outcome_unknown",
            ),
            (
                FlowError::NoLongerPending { sid, status: Status::Timeout, recorded: "recorded".into() },
                409,
                "no_longer_pending",
            ),
        ];
        for (flow, status, code) in cases {
            let message = flow.to_string();
            let api = ApiError::from(flow);
            assert_eq!((api.status(), api.code()), (status, code), "{message}");
            assert!(api.to_string().ends_with(&message), "the flow's own words: {api}");
        }
        let body: serde_json::Value = serde_json::from_str(&ApiError::from(FlowError::Store(store)).body()).unwrap();
        assert_eq!(body["error"]["message"], "the reservation store is unavailable: reading the store: KV GET failed");
    }

    #[test]
    fn the_hubs_failure_gets_the_operators_way_round_only_as_an_answer() {
        let hub = HubError::TimedOut(2_000);
        let flow = FlowError::Hub(hub.clone());
        // A decision Twilio applied and the hub could not record quotes these words: they must
        // not say that nothing was sent to TaskRouter.
        assert_eq!(flow.to_string(), hub.to_string());
        for api in [ApiError::from(flow), ApiError::from(hub)] {
            assert_eq!((api.status(), api.code()), (503, "hub_unavailable"));
            assert!(api.to_string().contains("decide in Twilio's console meanwhile"), "{api}");
        }
    }

    #[test]
    fn only_405_has_an_allow_header() {
        let err = ApiError::MethodNotAllowed { method: "GET".into(), allow: "POST" };
        assert_eq!((err.status(), err.allow()), (405, Some("POST")));
        assert_eq!(ApiError::Unauthorized.allow(), None);
    }
}
