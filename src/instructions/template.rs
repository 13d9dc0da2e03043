//! Placeholders in an instruction's text fields: `{{task.<path>}}` and `{{worker.<path>}}` read
//! the task's or worker's JSON attributes (a dotted path reaches into objects), and
//! `{{callback.<Parameter>}}` any parameter of the assignment callback. They are checked when the
//! configuration is read and filled in for each reservation.

use serde_json::{Map, Value};

use crate::twilio::FormParams;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("{text:?} opens a placeholder with {{{{ but never closes it with }}}}")]
    Unclosed { text: String },
    #[error("placeholder {{{{{inner}}}}} must be task.<attribute>, worker.<attribute> or callback.<Parameter>")]
    Unknown { inner: String },
}

/// The data a reservation offers to placeholders.
pub struct TemplateData<'a> {
    pub task: Option<&'a Map<String, Value>>,
    pub worker: Option<&'a Map<String, Value>>,
    pub params: &'a FormParams,
}

/// A placeholder this reservation has no value for: the instruction cannot be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{{{{{0}}}}} has no value for this reservation")]
pub struct MissingValue(pub String);

enum Piece<'t> {
    Text(&'t str),
    Placeholder(&'t str),
}

fn pieces(text: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        pieces.push(Piece::Text(&rest[..open]));
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or_else(|| TemplateError::Unclosed { text: text.to_owned() })?;
        let inner = after[..close].trim();
        match inner.split_once('.') {
            Some(("task" | "worker" | "callback", path)) if !path.is_empty() => pieces.push(Piece::Placeholder(inner)),
            _ => return Err(TemplateError::Unknown { inner: inner.to_owned() }),
        }
        rest = &after[close + 2..];
    }
    pieces.push(Piece::Text(rest));
    Ok(pieces)
}

fn strings_mut(
    value: &mut Value,
    visit: &mut dyn FnMut(&mut String) -> Result<(), MissingValue>,
) -> Result<(), MissingValue> {
    match value {
        Value::String(text) => visit(text),
        Value::Array(items) => items.iter_mut().try_for_each(|item| strings_mut(item, visit)),
        Value::Object(map) => map.values_mut().try_for_each(|item| strings_mut(item, visit)),
        _ => Ok(()),
    }
}

/// Checks every placeholder in every text of `value`.
pub fn check(value: &Value) -> Result<(), TemplateError> {
    match value {
        Value::String(text) => pieces(text).map(drop),
        Value::Array(items) => items.iter().try_for_each(check),
        Value::Object(map) => map.values().try_for_each(check),
        _ => Ok(()),
    }
}

fn lookup(inner: &str, data: &TemplateData) -> Option<String> {
    let (source, path) = inner.split_once('.')?;
    let found = match source {
        "callback" => return data.params.non_empty(path).map(str::to_owned),
        "task" => data.task,
        _ => data.worker,
    };
    let mut steps = path.split('.');
    let first = found?.get(steps.next()?)?;
    let value = steps.try_fold(first, |value, step| value.get(step))?;
    match value {
        Value::Null => None,
        Value::String(text) if text.is_empty() => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// Fills in every placeholder of every text of `value`.
pub fn render(value: &mut Value, data: &TemplateData) -> Result<(), MissingValue> {
    strings_mut(value, &mut |text| {
        let Ok(parts) = pieces(text) else { return Ok(()) };
        let mut rendered = String::with_capacity(text.len());
        for part in parts {
            match part {
                Piece::Text(literal) => rendered.push_str(literal),
                Piece::Placeholder(inner) => {
                    rendered.push_str(&lookup(inner, data).ok_or_else(|| MissingValue(inner.to_owned()))?);
                }
            }
        }
        *text = rendered;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data<'a>(task: &'a Map<String, Value>, params: &'a FormParams) -> TemplateData<'a> {
        TemplateData { task: Some(task), worker: None, params }
    }

    #[test]
    fn fills_task_worker_and_callback_values() {
        let task = json!({"from": "+14155550100", "caller": {"country": "US", "age": 42}}).as_object().unwrap().clone();
        let worker = json!({"contact_uri": "client:alice"}).as_object().unwrap().clone();
        let params = FormParams::from_pairs([("TaskSid", "WT1")]);
        let mut value = json!({"from": "{{task.from}}", "to": "{{ worker.contact_uri }}", "url": "https://e.com/{{callback.TaskSid}}?c={{task.caller.country}}&a={{task.caller.age}}", "n": 3});
        render(&mut value, &TemplateData { task: Some(&task), worker: Some(&worker), params: &params }).unwrap();
        assert_eq!(
            value,
            json!({"from": "+14155550100", "to": "client:alice", "url": "https://e.com/WT1?c=US&a=42", "n": 3})
        );
    }

    #[test]
    fn a_missing_value_is_named() {
        let task = Map::new();
        let params = FormParams::default();
        let mut value = json!({"from": "{{task.from}}"});
        assert_eq!(render(&mut value, &data(&task, &params)), Err(MissingValue("task.from".into())));
        let empty = json!({"from": ""}).as_object().unwrap().clone();
        assert!(render(&mut json!("{{task.from}}"), &data(&empty, &params)).is_err());
        let no_attributes = TemplateData { task: None, worker: None, params: &params };
        assert!(render(&mut json!("{{task.from}}"), &no_attributes).is_err());
    }

    #[test]
    fn checks_placeholders_when_the_configuration_is_read() {
        assert!(check(&json!({"from": "{{task.from}}", "to": "plain", "x": ["{{callback.TaskSid}}"]})).is_ok());
        assert_eq!(check(&json!("{{task.from")), Err(TemplateError::Unclosed { text: "{{task.from".into() }));
        assert_eq!(check(&json!("{{caller}}")), Err(TemplateError::Unknown { inner: "caller".into() }));
        assert_eq!(check(&json!("{{env.SECRET}}")), Err(TemplateError::Unknown { inner: "env.SECRET".into() }));
        assert!(check(&json!("{{task.}}")).is_err());
        assert_eq!(
            TemplateError::Unknown { inner: "caller".into() }.to_string(),
            "placeholder {{caller}} must be task.<attribute>, worker.<attribute> or callback.<Parameter>"
        );
    }
}
