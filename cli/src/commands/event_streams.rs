//! `reservations connect --event-streams [--remove]`: an Event Streams webhook Sink for the
//! worker's `/event-streams`, and a Subscription to the TaskRouter events the worker uses.
//!
//! Sinks and Subscriptions belong to the Account and are shared with every other consumer. Only a
//! webhook Sink whose destination is exactly the worker's URL is the worker's: it is found and
//! reused rather than made twice, its Subscription gains only the types it lacks, and `--remove`
//! deletes that Sink and its Subscriptions and nothing else. A Workspace's Event Callback URL is
//! never read or changed here.

use anyhow::Result;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use taskrouter_core::twilio::event_stream::{SCHEMA_VERSION, subscribed_types};

use crate::output;
use crate::twilio::{TwilioClient, TwilioError};

/// How the Sink and the Subscription are described in Twilio's Console.
const DESCRIPTION: &str = "taskrouter-edge: TaskRouter reservation and task events";
/// Pages read of one listing, at most (1,000 items each): an Account with more Sinks than that
/// is not one this command was written for.
const MAX_PAGES: usize = 10;

#[derive(Debug, Deserialize)]
pub struct Sink {
    pub sid: String,
    #[serde(default)]
    pub sink_type: Option<String>,
    /// An object in Twilio's examples; read as JSON text too, in case it comes as a string.
    #[serde(default)]
    pub sink_configuration: Option<Value>,
    #[serde(default)]
    pub status: Option<String>,
}

impl Sink {
    /// Whether this is a webhook Sink that sends to `destination`.
    pub fn sends_to(&self, destination: &str) -> bool {
        let configuration = match &self.sink_configuration {
            Some(Value::String(text)) => serde_json::from_str(text).unwrap_or(Value::Null),
            Some(object) => object.clone(),
            None => Value::Null,
        };
        self.sink_type.as_deref() == Some("webhook")
            && configuration.get("destination").and_then(Value::as_str) == Some(destination)
    }
}

/// A webhook Sink's `SinkConfiguration`. `batch_events`: a request carries a JSON array of
/// events, which `/event-streams` reads whole (Twilio's Sink page, in its earlier version).
#[derive(Serialize)]
struct WebhookConfiguration<'a> {
    destination: &'a str,
    method: &'a str,
    batch_events: bool,
}

/// One of a Subscription's `Types`, in the field order twilio-node writes.
#[derive(Serialize)]
struct SubscribedType<'a> {
    #[serde(rename = "type")]
    event_type: &'a str,
    schema_version: u32,
}

fn json_text(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("a struct of strings and numbers serializes")
}

#[derive(Debug, Deserialize)]
struct Subscription {
    sid: String,
}

#[derive(Debug, Deserialize)]
struct SubscribedEvent {
    #[serde(rename = "type")]
    event_type: String,
}

#[derive(Debug, Deserialize, Default)]
struct Meta {
    #[serde(default)]
    next_page_url: Option<String>,
}

/// One page of a listing: its items under `key`, and where the next page is.
#[derive(Debug, Deserialize)]
struct ResourcePage<T> {
    #[serde(default = "Vec::new", alias = "sinks", alias = "subscriptions", alias = "types")]
    items: Vec<T>,
    #[serde(default)]
    meta: Meta,
}

/// What `connect --event-streams` made or found.
#[derive(Debug, Serialize)]
pub struct Connected {
    pub destination: String,
    pub sink_sid: String,
    pub sink_created: bool,
    pub sink_status: Option<String>,
    pub subscription_sid: String,
    pub subscription_created: bool,
    /// The types this run subscribed to (all of them for a new Subscription).
    pub types_added: Vec<String>,
}

/// What `connect --event-streams --remove` deleted.
#[derive(Debug, Serialize)]
pub struct Removed {
    pub destination: String,
    pub sinks: Vec<String>,
    pub subscriptions: Vec<String>,
}

/// Events v1, at `events` (Twilio's `https://events.twilio.com`, or a mock), for the worker
/// whose base URL is `base`.
pub struct EventStreams {
    events: TwilioClient,
    /// The worker's `/event-streams`: what its Sink sends to.
    destination: String,
}

impl EventStreams {
    pub fn new(events: TwilioClient, base: &str) -> EventStreams {
        EventStreams { events, destination: format!("{base}/event-streams") }
    }

    /// Every item of a listing that starts at `path`, following `next_page_url` on this host.
    async fn list<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<Vec<T>, TwilioError> {
        let mut items = Vec::new();
        let mut next = Some(self.events.url(path));
        for _ in 0..MAX_PAGES {
            let Some(url) = next.take() else { break };
            let page: ResourcePage<T> = self.events.get(&url).await?;
            items.extend(page.items);
            next = page.meta.next_page_url.as_deref().and_then(path_and_query).map(|rest| self.events.url(&rest));
        }
        Ok(items)
    }

    async fn sinks_to(&self, destination: &str) -> Result<Vec<Sink>, TwilioError> {
        let sinks: Vec<Sink> = self.list("/v1/Sinks?PageSize=1000").await?;
        Ok(sinks.into_iter().filter(|sink| sink.sends_to(destination)).collect())
    }

    async fn subscriptions_of(&self, sink: &str) -> Result<Vec<Subscription>, TwilioError> {
        self.list(&format!("/v1/Subscriptions?SinkSid={sink}&PageSize=1000")).await
    }

    /// Finds or makes the worker's Sink and its Subscription; adds the types it lacks.
    pub async fn connect(&self) -> Result<Connected, TwilioError> {
        let destination = self.destination.as_str();
        let found = self.sinks_to(destination).await?.into_iter().next();
        let (sink, sink_created) = match found {
            Some(sink) => (sink, false),
            None => {
                let configuration = WebhookConfiguration { destination, method: "POST", batch_events: true };
                let form = [
                    ("Description", DESCRIPTION.to_owned()),
                    ("SinkType", "webhook".to_owned()),
                    ("SinkConfiguration", json_text(&configuration)),
                ];
                (self.events.create(&self.events.url("/v1/Sinks"), &form).await?, true)
            }
        };
        let wanted = subscribed_types();
        let existing = self.subscriptions_of(&sink.sid).await?.into_iter().next();
        let (subscription_sid, subscription_created, types_added) = match existing {
            Some(subscription) => {
                let path = format!("/v1/Subscriptions/{}/SubscribedEvents?PageSize=1000", subscription.sid);
                let have: Vec<SubscribedEvent> = self.list(&path).await?;
                let missing: Vec<String> =
                    wanted.into_iter().filter(|wanted| !have.iter().any(|had| &had.event_type == wanted)).collect();
                let url = self.events.url(&format!("/v1/Subscriptions/{}/SubscribedEvents", subscription.sid));
                for event_type in &missing {
                    let form = [("Type", event_type.clone()), ("SchemaVersion", SCHEMA_VERSION.to_string())];
                    self.events.create::<Value>(&url, &form).await?;
                }
                (subscription.sid, false, missing)
            }
            None => {
                let mut form = vec![("Description", DESCRIPTION.to_owned()), ("SinkSid", sink.sid.clone())];
                for event_type in &wanted {
                    form.push(("Types", json_text(&SubscribedType { event_type, schema_version: SCHEMA_VERSION })));
                }
                let made: Subscription = self.events.create(&self.events.url("/v1/Subscriptions"), &form).await?;
                (made.sid, true, wanted)
            }
        };
        Ok(Connected {
            destination: destination.to_owned(),
            sink_sid: sink.sid,
            sink_created,
            sink_status: sink.status,
            subscription_sid,
            subscription_created,
            types_added,
        })
    }

    /// Deletes every Subscription of the worker's Sinks, then the Sinks.
    pub async fn remove(&self) -> Result<Removed, TwilioError> {
        let destination = self.destination.as_str();
        let mut removed = Removed { destination: destination.to_owned(), sinks: Vec::new(), subscriptions: Vec::new() };
        for sink in self.sinks_to(destination).await? {
            for subscription in self.subscriptions_of(&sink.sid).await? {
                self.events.delete(&self.events.url(&format!("/v1/Subscriptions/{}", subscription.sid))).await?;
                removed.subscriptions.push(subscription.sid);
            }
            self.events.delete(&self.events.url(&format!("/v1/Sinks/{}", sink.sid))).await?;
            removed.sinks.push(sink.sid);
        }
        Ok(removed)
    }
}

/// The path and query of a `next_page_url`, to be asked of the same host the listing began on.
fn path_and_query(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    Some(match parsed.query() {
        Some(query) => format!("{}?{query}", parsed.path()),
        None => parsed.path().to_owned(),
    })
}

/// Prints `value` as JSON, or for a person with `for_a_person`.
pub fn print<T: Serialize>(value: &T, json: bool, for_a_person: fn(&T)) {
    if json {
        output::print_json(value);
    } else {
        for_a_person(value);
    }
}

/// Prints what `connect` did, for a person.
pub fn print_connected(connected: &Connected) {
    let Connected {
        destination,
        sink_sid,
        sink_created,
        sink_status,
        subscription_sid,
        subscription_created,
        types_added,
    } = connected;
    let made = |created: &bool| if *created { "created" } else { "already there, reused" };
    outln!("✓ Event Streams Sink {sink_sid} sends to {destination} ({})", made(sink_created));
    if let Some(status) = sink_status.as_deref().filter(|status| *status != "active") {
        outln!("  its status is {}: Twilio sends events only to an active Sink", output::printable(status));
    }
    outln!("✓ Subscription {subscription_sid} ({})", made(subscription_created));
    if types_added.is_empty() {
        outln!("  it already names every event the worker uses; nothing changed");
    } else {
        outln!("  subscribed: {}", types_added.join(", "));
    }
    outln!("  the Workspaces' Event Callback URLs were not touched");
}

/// Prints what `--remove` did, for a person.
pub fn print_removed(removed: &Removed) {
    if removed.sinks.is_empty() {
        outln!("No Event Streams Sink sends to {}; nothing changed", removed.destination);
        return;
    }
    for subscription in &removed.subscriptions {
        outln!("✓ deleted Subscription {subscription}");
    }
    for sink in &removed.sinks {
        outln!("✓ deleted Sink {sink} (it sent to {})", removed.destination);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sink(sink_type: &str, configuration: Value) -> Sink {
        Sink {
            sid: "DG".to_owned() + &"0".repeat(32),
            sink_type: Some(sink_type.into()),
            sink_configuration: Some(configuration),
            status: None,
        }
    }

    const OURS: &str = "https://edge.example.com/event-streams";

    #[test]
    fn only_a_webhook_sink_to_exactly_the_workers_url_is_the_workers() {
        assert!(sink("webhook", json!({ "destination": OURS, "method": "POST" })).sends_to(OURS));
        let as_text = json!({ "destination": OURS, "method": "POST" }).to_string();
        assert!(sink("webhook", Value::String(as_text)).sends_to(OURS));
        assert!(!sink("webhook", json!({ "destination": "https://other.example.com/hook" })).sends_to(OURS));
        assert!(!sink("webhook", json!({ "destination": format!("{OURS}/") })).sends_to(OURS));
        assert!(!sink("kinesis", json!({ "destination": OURS })).sends_to(OURS));
        assert!(!sink("webhook", Value::String("not json".into())).sends_to(OURS));
    }

    #[test]
    fn a_next_page_is_asked_of_the_same_host() {
        assert_eq!(
            path_and_query("https://events.twilio.com/v1/Sinks?PageSize=1000&Page=1&PageToken=PT1").as_deref(),
            Some("/v1/Sinks?PageSize=1000&Page=1&PageToken=PT1")
        );
        assert_eq!(path_and_query("not a url"), None);
    }

    #[test]
    fn listings_read_under_each_key() {
        let sinks: ResourcePage<Value> = serde_json::from_value(json!({ "sinks": [1, 2], "meta": {} })).unwrap();
        let types: ResourcePage<Value> = serde_json::from_value(json!({ "types": [1] })).unwrap();
        assert_eq!((sinks.items.len(), types.items.len()), (2, 1));
    }
}
