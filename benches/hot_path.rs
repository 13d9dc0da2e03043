//! The callback's pure hot path on the host: form decoding, signature check, record building,
//! JSON for KV and the summary metadata, and the assignment policy. Run by `npm run bench`
//! (`cargo bench --bench hot_path`); prints one JSON object of nanoseconds per operation.

use std::hint::black_box;
use std::time::Instant;

use taskrouter_edge::config::Config;
use taskrouter_edge::instructions::{Policy, TaskContext};
use taskrouter_edge::models::{Reservation, Timestamp};
use taskrouter_edge::twilio::{FormParams, ReservationParams, signature};

const URL: &str = "https://taskrouter-edge.example.workers.dev/assignment_callback";
const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const RULES: &str = r#"[
  {"when": {"task.vip": true}, "answer": {"instruction": "accept"}},
  {"when": {"task.type": "voice", "task.language": {"in": ["en", "es"]}},
   "answer": {"instruction": "dequeue", "from": "+14155550100", "to": "{{worker.contact_uri}}"}}
]"#;

fn body() -> String {
    let task = r#"{"type":"support","from":"+14155550100","language":"en","selected_product":"billing","customer":{"id":"C-123456","tier":"gold"}}"#;
    let worker = r#"{"skills":["support","billing"],"languages":["en","es"],"contact_uri":"client:alice"}"#;
    form_urlencoded::Serializer::new(String::new())
        .append_pair("AccountSid", &format!("AC{}", "a".repeat(32)))
        .append_pair("WorkspaceSid", &format!("WS{}", "b".repeat(32)))
        .append_pair("WorkflowSid", &format!("WW{}", "c".repeat(32)))
        .append_pair("TaskQueueSid", &format!("WQ{}", "d".repeat(32)))
        .append_pair("TaskSid", &format!("WT{}", "e".repeat(32)))
        .append_pair("TaskAttributes", task)
        .append_pair("TaskAge", "4")
        .append_pair("TaskPriority", "0")
        .append_pair("WorkerSid", &format!("WK{}", "f".repeat(32)))
        .append_pair("WorkerAttributes", worker)
        .append_pair("ReservationSid", &format!("WR{}", "0".repeat(32)))
        .finish()
}

/// Nanoseconds per call of `f`, the median of 7 batches.
fn measure(mut f: impl FnMut()) -> f64 {
    let iterations = 20_000;
    for _ in 0..1_000 {
        f();
    }
    let mut batches: Vec<f64> = (0..7)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..iterations {
                f();
            }
            started.elapsed().as_nanos() as f64 / f64::from(iterations)
        })
        .collect();
    batches.sort_by(f64::total_cmp);
    batches[3]
}

fn main() {
    let body = body();
    let params = FormParams::parse(body.as_bytes()).unwrap();
    let signed = signature::expected_signature(TOKEN, URL, &params);
    let callback = ReservationParams::from_params(params.clone()).unwrap();
    let now = Timestamp::from_millis(1_790_000_000_000);
    let record = Reservation::from_callback(&callback, now);
    let stored = serde_json::to_string(&record).unwrap();
    let rules = Policy::parse(Some(RULES)).unwrap();
    let lookup = |name: &str| match name {
        "TWILIO_AUTH_TOKEN" | "RESERVATIONS_API_TOKEN" => Some(TOKEN.to_owned()),
        "ASSIGNMENT_INSTRUCTION" => Some(RULES.to_owned()),
        _ => None,
    };

    let results = [
        ("form_parse", measure(|| drop(black_box(FormParams::parse(black_box(body.as_bytes())))))),
        ("signature_check", measure(|| assert!(signature::is_valid(TOKEN, black_box(&signed), URL, &params)))),
        ("record_from_callback", measure(|| drop(black_box(Reservation::from_callback(black_box(&callback), now))))),
        ("record_to_json", measure(|| drop(black_box(serde_json::to_string(black_box(&record)))))),
        (
            "record_from_json",
            measure(|| drop(black_box(taskrouter_edge::json::parse::<Reservation>(black_box(&stored))))),
        ),
        ("summary_metadata", measure(|| drop(black_box(serde_json::to_value(black_box(&record).summary()))))),
        ("config_with_rules", measure(|| drop(black_box(Config::from_lookup(lookup))))),
        (
            "policy_decide",
            measure(|| {
                let context = TaskContext {
                    params: &callback.params,
                    task: record.task_attributes.as_ref(),
                    worker: record.worker_attributes.as_ref(),
                };
                drop(black_box(rules.decide(&context)));
            }),
        ),
    ];
    let fields: Vec<String> = results.iter().map(|(name, ns)| format!("\"{name}\":{ns:.0}")).collect();
    println!("{{\"body_bytes\":{},{}}}", body.len(), fields.join(","));
}
