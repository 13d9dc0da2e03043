//! Which handler a method and path reach: pure, so the whole table is tested on the host.

use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    AssignmentCallback,
    Events,
    ListReservations,
    /// The SID as it appeared in the path; the handler checks its shape.
    ShowReservation(String),
    UpdateStatus(String),
    Health,
}

/// Paths, the method each takes, and the route it reaches.
impl Route {
    /// The route's pattern, for logs.
    pub fn pattern(&self) -> &'static str {
        match self {
            Route::AssignmentCallback => "/assignment_callback",
            Route::Events => "/events",
            Route::ListReservations => "/reservations",
            Route::ShowReservation(_) => "/reservations/{sid}",
            Route::UpdateStatus(_) => "/reservations/{sid}/status",
            Route::Health => "/health",
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
        ["health"] => ("GET", Route::Health),
        ["reservations"] => ("GET", Route::ListReservations),
        ["reservations", sid] if !sid.is_empty() => ("GET", Route::ShowReservation((*sid).to_owned())),
        ["reservations", sid, "status"] if !sid.is_empty() => ("POST", Route::UpdateStatus((*sid).to_owned())),
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
        assert_eq!(resolve("GET", "/health"), Ok(Route::Health));
        assert_eq!(resolve("GET", "/reservations"), Ok(Route::ListReservations));
        assert_eq!(resolve("GET", "/reservations/WR1"), Ok(Route::ShowReservation("WR1".into())));
        assert_eq!(resolve("POST", "/reservations/WR1/status"), Ok(Route::UpdateStatus("WR1".into())));
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
            "/",
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
