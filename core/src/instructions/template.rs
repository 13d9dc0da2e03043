//! Placeholders in an instruction's text fields: `{{task.<path>}}` and `{{worker.<path>}}` read
//! the task's or worker's JSON attributes (a dotted path reaches into objects), and
//! `{{callback.<Parameter>}}` any parameter of the assignment callback. They are checked when the
//! configuration is read and filled in for each reservation.
//!
//! The values come from callers and are hostile. In a URL field a value is percent-encoded, so it
//! stays one piece of the URL (`&accept=false` cannot add a parameter); a phone-number or SID
//! field must come out in that field's shape, or the instruction is not given.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use crate::models::Attributes;
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
    pub task: Option<&'a Attributes>,
    pub worker: Option<&'a Attributes>,
    pub params: &'a FormParams,
}

/// Why an instruction cannot be given for this reservation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("{{{{{0}}}}} has no value for this reservation")]
    Missing(String),
    #[error("{field} would be {value:?}, which is not {expected}")]
    Shape { field: String, value: String, expected: &'static str },
}

/// What a field of an instruction holds, which decides how a placeholder's value may enter it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldKind {
    /// A URL: values are percent-encoded.
    Url,
    /// A phone number or a client/SIP address (`from`, `to`).
    Address,
    /// A Call SID.
    CallSid,
    Text,
}

fn kind_of(field: &str) -> FieldKind {
    match field {
        "from" | "to" => FieldKind::Address,
        "call_sid" => FieldKind::CallSid,
        _ if field.ends_with("url") || field.ends_with("status_callback") => FieldKind::Url,
        _ => FieldKind::Text,
    }
}

/// Everything but the unreserved characters of RFC 3986: a value encoded with it is one
/// component wherever it sits in a URL (path segment, query value or fragment).
const URL_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Whether a rendered field has its kind's shape; the expected shape when not.
fn shape_problem(kind: FieldKind, value: &str) -> Option<&'static str> {
    let address = |v: &str| {
        let digits = v.strip_prefix('+').unwrap_or(v);
        let phone = (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        let client = v
            .strip_prefix("client:")
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.@-".contains(&b)));
        let sip = v
            .strip_prefix("sip:")
            .is_some_and(|uri| !uri.is_empty() && uri.chars().all(|c| c.is_ascii_graphic() && !"\"<>&?#".contains(c)));
        phone || client || sip
    };
    let call_sid = |v: &str| v.len() == 34 && v.starts_with("CA") && v[2..].bytes().all(|b| b.is_ascii_hexdigit());
    match kind {
        FieldKind::Address if !address(value) => {
            Some("a phone number (+14155550100), client:<identity> or sip:<address>")
        }
        FieldKind::CallSid if !call_sid(value) => Some("a Call SID (CA followed by 32 hex digits)"),
        _ => None,
    }
}

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
    visit: &mut dyn FnMut(&mut String) -> Result<(), RenderError>,
) -> Result<(), RenderError> {
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
    let attributes = match source {
        "callback" => return data.params.non_empty(path).map(str::to_owned),
        "task" => data.task,
        _ => data.worker,
    };
    attributes?.text_at(&path.split('.').collect::<Vec<_>>())
}

/// Fills in every placeholder of every text of `value`, an instruction's fields: each value as
/// its field's kind allows.
pub fn render(value: &mut Value, data: &TemplateData) -> Result<(), RenderError> {
    let Value::Object(fields) = value else { return render_text(value, FieldKind::Text, "value", data) };
    for (name, field) in fields.iter_mut() {
        render_text(field, kind_of(name), name, data)?;
    }
    Ok(())
}

fn render_text(value: &mut Value, kind: FieldKind, field: &str, data: &TemplateData) -> Result<(), RenderError> {
    strings_mut(value, &mut |text| {
        let Ok(parts) = pieces(text) else { return Ok(()) };
        if parts.len() == 1 {
            return Ok(());
        }
        let mut rendered = String::with_capacity(text.len());
        for part in parts {
            match part {
                Piece::Text(literal) => rendered.push_str(literal),
                Piece::Placeholder(inner) => {
                    let found = lookup(inner, data).ok_or_else(|| RenderError::Missing(inner.to_owned()))?;
                    match kind {
                        FieldKind::Url => rendered.extend(utf8_percent_encode(&found, URL_COMPONENT)),
                        _ => rendered.push_str(&found),
                    }
                }
            }
        }
        if let Some(expected) = shape_problem(kind, &rendered) {
            return Err(RenderError::Shape { field: field.to_owned(), value: rendered, expected });
        }
        *text = rendered;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data<'a>(task: &'a Attributes, params: &'a FormParams) -> TemplateData<'a> {
        TemplateData { task: Some(task), worker: None, params }
    }

    fn attributes(value: Value) -> Attributes {
        Attributes::parse(&value.to_string())
    }

    #[test]
    fn fills_task_worker_and_callback_values() {
        let task = attributes(json!({"from": "+14155550100", "caller": {"country": "US", "age": 42}}));
        let worker = attributes(json!({"contact_uri": "client:alice"}));
        let params = FormParams::from_pairs([("TaskSid", "WT1")]);
        let mut value = json!({"from": "{{task.from}}", "to": "{{ worker.contact_uri }}", "url": "https://e.com/{{callback.TaskSid}}?c={{task.caller.country}}&a={{task.caller.age}}", "n": 3});
        render(&mut value, &TemplateData { task: Some(&task), worker: Some(&worker), params: &params }).unwrap();
        assert_eq!(
            value,
            json!({"from": "+14155550100", "to": "client:alice", "url": "https://e.com/WT1?c=US&a=42", "n": 3})
        );
    }

    #[test]
    fn a_value_in_a_url_stays_one_component() {
        let task =
            attributes(json!({"name": "x&accept=false&url=https://evil.example/#", "path": "../admin", "café": "é"}));
        let params = FormParams::default();
        let mut value = json!({
            "url": "https://example.com/agent?n={{task.name}}",
            "status_callback_url": "https://example.com/{{task.path}}/s",
            "wait_url": "https://example.com/w?q={{task.name}}",
        });
        render(&mut value, &data(&task, &params)).unwrap();
        assert_eq!(
            value["url"],
            "https://example.com/agent?n=x%26accept%3Dfalse%26url%3Dhttps%3A%2F%2Fevil.example%2F%23"
        );
        assert_eq!(value["status_callback_url"], "https://example.com/..%2Fadmin/s");
        assert_eq!(value["wait_url"], value["url"].as_str().unwrap().replace("/agent?n=", "/w?q="));
    }

    #[test]
    fn addresses_and_call_sids_must_have_their_shape() {
        let sid = format!("CA{}", "a".repeat(32));
        let task = attributes(json!({
            "phone": "+14155550100", "bad_phone": "+1415 or 1=1", "client": "alice", "call": sid, "bad_call": "CA1&x=y",
        }));
        let params = FormParams::default();
        let mut good = json!({"from": "{{task.phone}}", "to": "client:{{task.client}}", "call_sid": "{{task.call}}"});
        render(&mut good, &data(&task, &params)).unwrap();
        assert_eq!(good, json!({"from": "+14155550100", "to": "client:alice", "call_sid": sid}));
        for bad in [
            json!({"from": "{{task.bad_phone}}"}),
            json!({"to": "{{task.bad_phone}}"}),
            json!({"call_sid": "{{task.bad_call}}"}),
        ] {
            let mut value = bad.clone();
            let err = render(&mut value, &data(&task, &params)).unwrap_err();
            assert!(matches!(err, RenderError::Shape { .. }), "{bad}: {err}");
        }
        // A field without a placeholder is the configuration's own: not checked here.
        let mut literal = json!({"to": "worker's phone"});
        render(&mut literal, &data(&task, &params)).unwrap();
    }

    #[test]
    fn a_missing_value_is_named() {
        let task = attributes(json!({}));
        let params = FormParams::default();
        let mut value = json!({"from": "{{task.from}}"});
        assert_eq!(render(&mut value, &data(&task, &params)), Err(RenderError::Missing("task.from".into())));
        let empty = attributes(json!({"from": ""}));
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
