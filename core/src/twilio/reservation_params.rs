//! The parameters that identify a reservation, in an assignment callback or a reservation event.

use crate::models::{ReservationSid, SidError, TaskSid, WorkspaceSid};

use super::form::FormParams;

/// Parameters whose identifying SIDs are present and well-formed. Everything else
/// TaskRouter sent stays in `params`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReservationParams {
    pub reservation_sid: ReservationSid,
    pub task_sid: TaskSid,
    pub workspace_sid: WorkspaceSid,
    pub params: FormParams,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    #[error("the {0} parameter is missing")]
    Missing(&'static str),
    #[error(transparent)]
    InvalidSid(#[from] SidError),
}

/// Reads a required SID parameter, naming it when it is missing or malformed.
pub fn required_sid<T>(params: &FormParams, name: &'static str) -> Result<T, ParamsError>
where
    T: std::str::FromStr<Err = SidError>,
{
    let raw = params.non_empty(name).ok_or(ParamsError::Missing(name))?;
    Ok(raw.parse()?)
}

impl ReservationParams {
    pub fn from_params(params: FormParams) -> Result<Self, ParamsError> {
        Ok(ReservationParams {
            reservation_sid: required_sid(&params, "ReservationSid")?,
            task_sid: required_sid(&params, "TaskSid")?,
            workspace_sid: required_sid(&params, "WorkspaceSid")?,
            params,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WR: &str = "WRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const WT: &str = "WTbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const WS: &str = "WScccccccccccccccccccccccccccccccc";

    fn params_without(skip: &str) -> FormParams {
        FormParams::from_pairs(
            [("ReservationSid", WR), ("TaskSid", WT), ("WorkspaceSid", WS), ("TaskAge", "3")]
                .into_iter()
                .filter(|(key, _)| *key != skip),
        )
    }

    #[test]
    fn reads_the_identifying_sids_and_keeps_the_rest() {
        let callback = ReservationParams::from_params(params_without("")).unwrap();
        assert_eq!(callback.reservation_sid.as_str(), WR);
        assert_eq!(callback.task_sid.as_str(), WT);
        assert_eq!(callback.workspace_sid.as_str(), WS);
        assert_eq!(callback.params.get("TaskAge"), Some("3"));
    }

    #[test]
    fn names_a_missing_sid() {
        for name in ["ReservationSid", "TaskSid", "WorkspaceSid"] {
            let err = ReservationParams::from_params(params_without(name)).unwrap_err();
            assert_eq!(err, ParamsError::Missing(name));
            assert_eq!(err.to_string(), format!("the {name} parameter is missing"));
        }
    }

    #[test]
    fn names_a_malformed_sid() {
        let params = FormParams::from_pairs([("ReservationSid", WR), ("TaskSid", "WT123"), ("WorkspaceSid", WS)]);
        let err = ReservationParams::from_params(params).unwrap_err();
        assert_eq!(err.to_string(), "TaskSid must be WT followed by 32 lower-case hex digits");
    }
}
