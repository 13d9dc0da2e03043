//! Which handler a method and path reach: pure, so the whole table is tested on the host.

use super::error::ApiError;
pub use taskrouter_core::hub::claims::Decision;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    AssignmentCallback,
    Events,
    /// An Event Streams webhook Sink's batches.
    EventStreams,
    ListReservations,
    /// The SID as it appeared in the path; the handler checks its shape.
    ShowReservation(String),
    UpdateStatus(String),
    /// Accept or reject at Twilio, from the edge.
    Decide(String, Decision),
    /// Claim the one decision on a reservation (the CLI, before it calls Twilio itself).
    Claim(String),
    /// Give that claim back (Twilio refused, and nothing changed).
    Release(String),
    Activities,
    /// Who the operator is, and how they got in (for the console's header).
    Me,
    /// A console's WebSocket, handed to the hub.
    Live,
    Health,
    /// This worker's OpenAPI description (`openapi.json`).
    OpenApi,
    /// The operator console's page and its script, style and icon.
    Console(Asset),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asset {
    Page,
    Script,
    /// The day at a glance's script.
    DayScript,
    /// The script that shows where statuses come from, and warns when events stop.
    ChannelsScript,
    Style,
    Icon,
}

/// Paths, the method each takes, and the route it reaches.
impl Route {
    /// The route's pattern, for logs.
    pub fn pattern(&self) -> &'static str {
        match self {
            Route::AssignmentCallback => "/assignment_callback",
            Route::Events => "/events",
            Route::EventStreams => "/event-streams",
            Route::ListReservations => "/reservations",
            Route::ShowReservation(_) => "/reservations/{sid}",
            Route::UpdateStatus(_) => "/reservations/{sid}/status",
            Route::Decide(_, Decision::Accept) => "/reservations/{sid}/accept",
            Route::Decide(_, Decision::Reject) => "/reservations/{sid}/reject",
            Route::Claim(_) => "/reservations/{sid}/claim",
            Route::Release(_) => "/reservations/{sid}/release",
            Route::Activities => "/activities",
            Route::Me => "/me",
            Route::Live => "/live",
            Route::Health => "/health",
            Route::OpenApi => "/openapi.json",
            Route::Console(Asset::Page) => "/",
            Route::Console(Asset::Script) => "/console.js",
            Route::Console(Asset::DayScript) => "/day.js",
            Route::Console(Asset::ChannelsScript) => "/channels.js",
            Route::Console(Asset::Style) => "/console.css",
            Route::Console(Asset::Icon) => "/console.svg",
        }
    }
}

pub fn resolve(method: &str, path: &str) -> Result<Route, ApiError> {
    // One leading slash only: `//reservations` is not `/reservations`, just as `/reservations/`
    // is not.
    let Some(rest) = path.strip_prefix('/') else {
        return Err(ApiError::NotFound { path: path.to_owned() });
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let (allow, route) = match segments.as_slice() {
        ["assignment_callback"] => ("POST", Route::AssignmentCallback),
        ["events"] => ("POST", Route::Events),
        ["event-streams"] => ("POST", Route::EventStreams),
        ["health"] => ("GET", Route::Health),
        ["openapi.json"] => ("GET", Route::OpenApi),
        ["reservations"] => ("GET", Route::ListReservations),
        ["reservations", sid] if !sid.is_empty() => ("GET", Route::ShowReservation((*sid).to_owned())),
        ["reservations", sid, "status"] if !sid.is_empty() => ("POST", Route::UpdateStatus((*sid).to_owned())),
        ["reservations", sid, "accept"] if !sid.is_empty() => {
            ("POST", Route::Decide((*sid).to_owned(), Decision::Accept))
        }
        ["reservations", sid, "reject"] if !sid.is_empty() => {
            ("POST", Route::Decide((*sid).to_owned(), Decision::Reject))
        }
        ["reservations", sid, "claim"] if !sid.is_empty() => ("POST", Route::Claim((*sid).to_owned())),
        ["reservations", sid, "release"] if !sid.is_empty() => ("POST", Route::Release((*sid).to_owned())),
        ["activities"] => ("GET", Route::Activities),
        ["me"] => ("GET", Route::Me),
        ["live"] => ("GET", Route::Live),
        [""] => ("GET", Route::Console(Asset::Page)),
        ["console.js"] => ("GET", Route::Console(Asset::Script)),
        ["day.js"] => ("GET", Route::Console(Asset::DayScript)),
        ["channels.js"] => ("GET", Route::Console(Asset::ChannelsScript)),
        ["console.css"] => ("GET", Route::Console(Asset::Style)),
        ["console.svg"] => ("GET", Route::Console(Asset::Icon)),
        _ => return Err(ApiError::NotFound { path: path.to_owned() }),
    };
    if method == allow { Ok(route) } else { Err(ApiError::MethodNotAllowed { method: method.to_owned(), allow }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_with_its_method() {
        assert_eq!(resolve("POST", "/assignment_callback"), Ok(Route::AssignmentCallback));
        assert_eq!(resolve("POST", "/events"), Ok(Route::Events));
        assert_eq!(resolve("POST", "/event-streams"), Ok(Route::EventStreams));
        assert_eq!(resolve("GET", "/health"), Ok(Route::Health));
        assert_eq!(resolve("GET", "/openapi.json"), Ok(Route::OpenApi));
        assert_eq!(resolve("GET", "/reservations"), Ok(Route::ListReservations));
        assert_eq!(resolve("GET", "/reservations/WR1"), Ok(Route::ShowReservation("WR1".into())));
        assert_eq!(resolve("POST", "/reservations/WR1/status"), Ok(Route::UpdateStatus("WR1".into())));
        assert_eq!(resolve("POST", "/reservations/WR1/accept"), Ok(Route::Decide("WR1".into(), Decision::Accept)));
        assert_eq!(resolve("POST", "/reservations/WR1/reject"), Ok(Route::Decide("WR1".into(), Decision::Reject)));
        assert_eq!(resolve("POST", "/reservations/WR1/claim"), Ok(Route::Claim("WR1".into())));
        assert_eq!(resolve("POST", "/reservations/WR1/release"), Ok(Route::Release("WR1".into())));
        assert_eq!(resolve("GET", "/activities"), Ok(Route::Activities));
        assert_eq!(resolve("GET", "/me"), Ok(Route::Me));
        assert_eq!(resolve("GET", "/live"), Ok(Route::Live));
        assert_eq!(resolve("GET", "/"), Ok(Route::Console(Asset::Page)));
        assert_eq!(resolve("GET", "/console.js"), Ok(Route::Console(Asset::Script)));
        assert_eq!(resolve("GET", "/day.js"), Ok(Route::Console(Asset::DayScript)));
        assert_eq!(resolve("GET", "/channels.js"), Ok(Route::Console(Asset::ChannelsScript)));
        assert_eq!(resolve("GET", "/console.css"), Ok(Route::Console(Asset::Style)));
    }

    #[test]
    fn a_wrong_method_says_which_one_to_use() {
        let err = resolve("GET", "/assignment_callback").unwrap_err();
        assert_eq!((err.status(), err.allow()), (405, Some("POST")));
        assert_eq!(resolve("DELETE", "/reservations/WR1").unwrap_err().allow(), Some("GET"));
    }

    #[test]
    fn anything_else_is_not_found() {
        for path in [
            "",
            "//",
            "/index.html",
            "/reservations/WR1/accept/",
            "/assignment_callback/",
            "/reservations/",
            "/reservations//status",
            "/reservations/WR1/status/x",
            "//reservations",
            "///health",
            "//assignment_callback",
            "health",
            "/nope",
        ] {
            assert_eq!(resolve("GET", path).unwrap_err().status(), 404, "{path}");
        }
    }
}
