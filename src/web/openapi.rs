//! The API's OpenAPI 3.1 description, `openapi.json` at the repository's root, served as it is
//! at `GET /openapi.json`. It is written by hand and held to the code from both sides: the tests
//! below check it against the route table and every error's status and code, and the end-to-end
//! tests check every answer they receive against it (tests/support/openapi.mjs).

/// The description, as committed.
pub const DESCRIPTION: &str = include_str!("../../openapi.json");

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::Value;

    use super::DESCRIPTION;
    use crate::web::error::ApiError;
    use crate::web::routes::{Asset, Route, resolve};
    use taskrouter_core::access::token::AccessError;
    use taskrouter_core::config::ConfigError;
    use taskrouter_core::config::rest::UnsetSecret;
    use taskrouter_core::flows::FlowError;
    use taskrouter_core::hub::claims::{Claim, Decision};
    use taskrouter_core::hub::port::HubError;
    use taskrouter_core::hub::query::ListQueryError;
    use taskrouter_core::models::{ReservationSid, SidError, Status, Timestamp, TransitionError, UnknownStatus};
    use taskrouter_core::store::StoreError;
    use taskrouter_core::twilio::event_stream::BatchError;
    use taskrouter_core::twilio::rest::RestError;
    use taskrouter_core::twilio::{FormError, ParamsError};

    const METHODS: [&str; 2] = ["get", "post"];

    /// A route's pattern as the description writes it (the log lines say `{sid}`).
    fn described_path(route: &Route) -> String {
        route.pattern().replace("{sid}", "{ReservationSid}")
    }

    fn description() -> Value {
        serde_json::from_str(DESCRIPTION).expect("openapi.json is JSON")
    }

    /// `#/components/…` as the value it names.
    fn follow<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(pointer) => doc.pointer(pointer.trim_start_matches('#')).unwrap_or_else(|| panic!("no {pointer}")),
            None => value,
        }
    }

    /// Every described operation: (method in capitals, path).
    fn operations(doc: &Value) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys().filter(|key| METHODS.contains(&key.as_str())) {
                found.push((method.to_uppercase(), path.clone()));
            }
        }
        found
    }

    /// One route of each kind. Listing them in a `match` makes a new route fail to compile here
    /// until it is added, and so until it is described.
    fn one_of_each_route() -> Vec<Route> {
        let sid = || format!("WR{}", "a".repeat(32));
        let routes = vec![
            Route::AssignmentCallback,
            Route::Events,
            Route::EventStreams,
            Route::ListReservations,
            Route::ShowReservation(sid()),
            Route::UpdateStatus(sid()),
            Route::Decide(sid(), Decision::Accept),
            Route::Decide(sid(), Decision::Reject),
            Route::Claim(sid()),
            Route::Release(sid()),
            Route::Activities,
            Route::Me,
            Route::Live,
            Route::Health,
            Route::OpenApi,
            Route::Console(Asset::Page),
            Route::Console(Asset::Script),
            Route::Console(Asset::DayScript),
            Route::Console(Asset::ChannelsScript),
            Route::Console(Asset::Style),
            Route::Console(Asset::Icon),
        ];
        for route in &routes {
            match route {
                Route::AssignmentCallback
                | Route::Events
                | Route::EventStreams
                | Route::ListReservations
                | Route::ShowReservation(_)
                | Route::UpdateStatus(_)
                | Route::Decide(_, Decision::Accept | Decision::Reject)
                | Route::Claim(_)
                | Route::Release(_)
                | Route::Activities
                | Route::Me
                | Route::Live
                | Route::Health
                | Route::OpenApi
                | Route::Console(
                    Asset::Page | Asset::Script | Asset::DayScript | Asset::ChannelsScript | Asset::Style | Asset::Icon,
                ) => {}
            }
        }
        routes
    }

    #[test]
    fn every_route_is_described_with_its_method_and_nothing_else_is() {
        let doc = description();
        let described = operations(&doc);
        let sid = format!("WR{}", "a".repeat(32));
        for (method, path) in &described {
            let concrete = path.replace("{ReservationSid}", &sid);
            let route = resolve(method, &concrete).unwrap_or_else(|error| panic!("{method} {path}: {error}"));
            assert_eq!(&described_path(&route), path, "{method} {path} reaches another route");
        }
        for route in one_of_each_route() {
            let path = described_path(&route);
            assert!(
                described.iter().any(|(_, described)| *described == path),
                "{path} is not described in openapi.json"
            );
        }
    }

    /// One error of each kind, with each kind's own code (a `match` again keeps the list whole).
    fn one_of_each_error() -> Vec<ApiError> {
        let sid: ReservationSid = format!("WR{}", "a".repeat(32)).parse().unwrap();
        let sid_error = SidError { kind: "ReservationSid", prefix: "WR" };
        let refused = || Box::new(RestError::Refused { status: 400, body: Default::default(), retried: false });
        let store = StoreError::Unavailable { action: "reading", reason: "down".into() };
        let at = Timestamp::from_millis(0);
        let errors = vec![
            ApiError::NotFound { path: "/x".into() },
            ApiError::MethodNotAllowed { method: "PUT".into(), allow: "GET" },
            ApiError::UnsupportedMediaType { expected: "JSON", got: "text".into() },
            ApiError::BodyTooLarge { limit: 1 },
            ApiError::UnreadableBody,
            ApiError::Form(FormError::Empty),
            ApiError::Callback(ParamsError::Missing("TaskSid")),
            ApiError::Callback(ParamsError::InvalidSid(sid_error.clone())),
            ApiError::InvalidSid(sid_error),
            ApiError::ListQuery(ListQueryError::Limit),
            ApiError::InvalidQuery("x".into()),
            ApiError::InvalidJson("x".into()),
            ApiError::UnknownStatus(UnknownStatus { given: "x".into() }),
            ApiError::Unauthorized,
            ApiError::TokenRefused,
            ApiError::MissingSignature,
            ApiError::InvalidSignature("x".into()),
            ApiError::UnsupportedSignatureAlgorithm("x".into()),
            ApiError::UnknownSigningKey("x".into()),
            FlowError::NotConfigured(UnsetSecret("X")).into(),
            ApiError::Config(ConfigError { name: "X", problem: "x".into() }),
            FlowError::ReservationNotFound(sid.clone()).into(),
            FlowError::Transition(TransitionError { from: Status::Completed, to: Status::Pending }).into(),
            FlowError::Store(store).into(),
            FlowError::Hub(HubError::TimedOut(1)).into(),
            ApiError::Flow(FlowError::Hub(HubError::TimedOut(1))),
            FlowError::Twilio(refused()).into(),
            FlowError::Twilio(Box::new(RestError::Lost("x".into()))).into(),
            FlowError::Twilio(Box::new(RestError::Dropped("x".into()))).into(),
            FlowError::Twilio(Box::new(RestError::Unreachable("x".into()))).into(),
            FlowError::Twilio(Box::new(RestError::Unexpected("x".into()))).into(),
            FlowError::TwilioOutcomeUnknown {
                refusal: refused(),
                read_error: refused(),
                decision: Decision::Accept,
                until: at,
            }
            .into(),
            FlowError::NoLongerPending { sid: sid.clone(), status: Status::Timeout, recorded: "x".into() }.into(),
            FlowError::TwilioUnreachable(refused()).into(),
            FlowError::DecisionInFlight {
                sid: sid.clone(),
                claim: Claim {
                    decision: Decision::Accept,
                    owner: "edge".into(),
                    actor: "operator token".into(),
                    since: at,
                    until: at,
                },
            }
            .into(),
            FlowError::AlreadyDecided { sid: sid.clone(), status: Status::Accepted, at }.into(),
            FlowError::NotClaimHolder { sid }.into(),
            ApiError::InvalidBodyHash,
            ApiError::ForeignOrigin("x".into()),
            ApiError::Batch(BatchError::TooMany(2_000)),
            ApiError::Access(AccessError::Expired),
            ApiError::Access(AccessError::KeysUnavailable("x".into())),
            ApiError::UpgradeRequired,
        ];
        for error in &errors {
            match error {
                ApiError::NotFound { .. }
                | ApiError::MethodNotAllowed { .. }
                | ApiError::UnsupportedMediaType { .. }
                | ApiError::BodyTooLarge { .. }
                | ApiError::UnreadableBody
                | ApiError::Form(_)
                | ApiError::Callback(ParamsError::Missing(_) | ParamsError::InvalidSid(_))
                | ApiError::InvalidSid(_)
                | ApiError::ListQuery(_)
                | ApiError::InvalidQuery(_)
                | ApiError::InvalidJson(_)
                | ApiError::UnknownStatus(_)
                | ApiError::Unauthorized
                | ApiError::TokenRefused
                | ApiError::MissingSignature
                | ApiError::InvalidSignature(_)
                | ApiError::UnsupportedSignatureAlgorithm(_)
                | ApiError::UnknownSigningKey(_)
                | ApiError::HubUnavailable(_)
                | ApiError::Config(_)
                | ApiError::Access(_)
                | ApiError::InvalidBodyHash
                | ApiError::ForeignOrigin(_)
                | ApiError::Batch(_)
                | ApiError::Flow(
                    FlowError::ReservationNotFound(_)
                    | FlowError::NotConfigured(_)
                    | FlowError::Transition(_)
                    | FlowError::Store(_)
                    | FlowError::Hub(_)
                    | FlowError::Twilio(_)
                    | FlowError::TwilioOutcomeUnknown { .. }
                    | FlowError::NoLongerPending { .. }
                    | FlowError::TwilioUnreachable(_)
                    | FlowError::DecisionInFlight { .. }
                    | FlowError::AlreadyDecided { .. }
                    | FlowError::NotClaimHolder { .. },
                )
                | ApiError::UpgradeRequired => {}
            }
        }
        errors
    }

    /// The codes a described error answer may carry (its `const` or `enum`).
    fn codes_of(doc: &Value, response: &Value) -> Vec<String> {
        let response = follow(doc, response);
        let Some(schema) = response.pointer("/content/application~1json/schema") else { return Vec::new() };
        let Some(code) = schema.pointer("/properties/error/properties/code") else { return Vec::new() };
        match (code.get("const"), code.get("enum")) {
            (Some(one), _) => vec![one.as_str().unwrap().to_owned()],
            (None, Some(all)) => all.as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect(),
            (None, None) => Vec::new(),
        }
    }

    #[test]
    fn every_error_code_is_described_under_its_own_status() {
        let doc = description();
        // Status → every code some described answer with that status may carry; 404 and 405
        // for any path or method come from `components.responses`.
        let mut described: BTreeMap<u16, BTreeSet<String>> = BTreeMap::new();
        let mut add = |status: &str, response: &Value| {
            if let Ok(status) = status.parse::<u16>() {
                described.entry(status).or_default().extend(codes_of(&doc, response));
            }
        };
        for item in doc["paths"].as_object().unwrap().values() {
            for method in METHODS {
                for (status, response) in
                    item.get(method).and_then(|op| op["responses"].as_object()).into_iter().flatten()
                {
                    add(status, response);
                }
            }
        }
        add("404", &doc["components"]["responses"]["NotFound"]);
        add("405", &doc["components"]["responses"]["MethodNotAllowed"]);

        let codes: BTreeSet<String> = one_of_each_error().iter().map(|error| error.code().to_owned()).collect();
        for error in one_of_each_error() {
            let under = described.get(&error.status()).cloned().unwrap_or_default();
            assert!(under.contains(error.code()), "{} {} is not described: {under:?}", error.status(), error.code());
        }
        let listed: BTreeSet<String> = doc["components"]["schemas"]["ErrorCode"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|code| code.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(listed, codes, "ErrorCode lists exactly the codes the worker gives");
        let all_described: BTreeSet<String> = described.into_values().flatten().collect();
        assert!(all_described.is_subset(&codes), "described but never given: {:?}", all_described.difference(&codes));
    }

    #[test]
    fn its_version_is_the_workers() {
        assert_eq!(description()["info"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(description()["openapi"], "3.1.0");
    }
}
