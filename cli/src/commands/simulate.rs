//! `reservations simulate [--url URL] [--shared-key ID --shared-key-secret SECRET]`: a realistic,
//! correctly signed assignment callback, signed with the Auth Token or as a Webhook Rule signs.

use anyhow::Result;
use reqwest::Client;
use serde_json::json;
use taskrouter_core::twilio::FormParams;
use taskrouter_core::twilio::signature::{Algorithm, expected_signature};

use crate::exit;
use crate::http;
use crate::output;
use crate::settings::Settings;

fn fresh_sid(prefix: &str) -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().fold(prefix.to_owned(), |mut sid, byte| {
        sid.push_str(&format!("{byte:02x}"));
        sid
    })
}

/// The parameters TaskRouter sends an Assignment Callback URL, with fresh SIDs.
fn assignment_parameters(account_sid: Option<&str>) -> Vec<(&'static str, String)> {
    let task_attributes = json!({
        "type": "support",
        "from": "+14155550100",
        "language": "en",
        "selected_product": "billing",
    });
    let worker_attributes =
        json!({ "skills": ["support", "billing"], "languages": ["en"], "contact_uri": "client:alice" });
    vec![
        ("AccountSid", account_sid.map_or_else(|| fresh_sid("AC"), str::to_owned)),
        ("WorkspaceSid", fresh_sid("WS")),
        ("WorkflowSid", fresh_sid("WW")),
        ("TaskQueueSid", fresh_sid("WQ")),
        ("TaskSid", fresh_sid("WT")),
        ("TaskAttributes", task_attributes.to_string()),
        ("TaskAge", "3".to_owned()),
        ("TaskPriority", "0".to_owned()),
        ("WorkerSid", fresh_sid("WK")),
        ("WorkerAttributes", worker_attributes.to_string()),
        ("ReservationSid", fresh_sid("WR")),
    ]
}

/// What the callback is signed with.
pub enum CallbackSigner {
    AuthToken(String),
    /// As a Webhook Rule signs: the SharedKey's id goes in `X-Twilio-Webhooks-Signature-Settings`.
    SharedKey {
        id: String,
        secret: String,
        algorithm: Algorithm,
    },
}

impl CallbackSigner {
    fn sign(&self, url: &str, params: &FormParams) -> String {
        match self {
            CallbackSigner::AuthToken(token) => expected_signature(token, url, params, Algorithm::HmacSha1),
            CallbackSigner::SharedKey { secret, algorithm, .. } => expected_signature(secret, url, params, *algorithm),
        }
    }

    /// `X-Twilio-Webhooks-Signature-Settings`, for a SharedKey.
    fn settings_header(&self) -> Option<String> {
        match self {
            CallbackSigner::AuthToken(_) => None,
            CallbackSigner::SharedKey { id, algorithm, .. } => {
                Some(format!("key={id},algorithm={}", algorithm.as_str()))
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            CallbackSigner::AuthToken(_) => "TWILIO_AUTH_TOKEN".to_owned(),
            CallbackSigner::SharedKey { id, algorithm, .. } => format!("SharedKey {id} ({})", algorithm.as_str()),
        }
    }
}

pub async fn run(client: &Client, settings: &Settings, url: &str, signer: &CallbackSigner, json: bool) -> Result<u8> {
    let target = format!("{}/assignment_callback", url.trim_end_matches('/'));
    let params = assignment_parameters(settings.account_sid.as_deref());
    let signature = signer.sign(&target, &FormParams::from_pairs(params.clone()));
    let settings_header = signer.settings_header();
    let response = http::read("the worker", || {
        let request = client.post(&target).header("X-Twilio-Signature", &signature).form(&params);
        match &settings_header {
            Some(header) => request.header("X-Twilio-Webhooks-Signature-Settings", header),
            None => request,
        }
    })
    .await?;
    let status = response.status();
    let answer = String::from_utf8_lossy(&http::body("the worker", response).await?).into_owned();
    // What TaskRouter needs: 200 and a JSON object (`{}` or an instruction).
    let accepted = status == reqwest::StatusCode::OK
        && output::parse_json::<serde_json::Value>(answer.as_bytes()).is_ok_and(|value| value.is_object());
    let value = |name: &str| params.iter().find(|(key, _)| *key == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let reservation = value("ReservationSid");

    if json {
        output::print_json(&json!({
            "reservation_sid": reservation,
            "task_sid": value("TaskSid"),
            "workspace_sid": value("WorkspaceSid"),
            "worker_sid": value("WorkerSid"),
            "url": target,
            "signed_with": signer.describe(),
            "status": status.as_u16(),
            "answer": answer,
            "ok": accepted,
        }));
    } else if accepted {
        outln!("✓ sent an assignment callback for {reservation} to {target}, signed with {}", signer.describe());
        outln!("  the worker answered {status} {answer}");
        outln!("  next: reservations show {reservation}");
    } else {
        let answer = output::printable(&answer.chars().take(500).collect::<String>());
        outln!("✗ the worker answered {status} to a signed assignment callback for {reservation}: {answer}");
        if status.is_success() {
            outln!(
                "  TaskRouter needs 200 with a JSON object ({{}} or an instruction); this answer would fail the callback"
            );
        }
        if status.as_u16() == 403 {
            match signer {
                CallbackSigner::AuthToken(_) => outln!(
                    "  check that TWILIO_AUTH_TOKEN here is the worker's TWILIO_AUTH_TOKEN (and PUBLIC_URL, behind a tunnel)"
                ),
                CallbackSigner::SharedKey { id, .. } => outln!(
                    "  check that the worker's TWILIO_WEBHOOK_SHARED_KEYS holds {id} with this secret (and PUBLIC_URL, behind a tunnel)"
                ),
            }
        }
    }
    Ok(if accepted { exit::OK } else { exit::ACTION_FAILED })
}
