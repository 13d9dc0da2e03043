//! `reservations list [--status S] [--json]`

use anyhow::Result;

use crate::StatusArg;
use crate::exit;
use crate::output::{self, ListedReservation};
use crate::worker::Worker;

pub async fn run(worker: &Worker, status: StatusArg, json: bool) -> Result<u8> {
    let reservations = worker.list(&status.to_string()).await?;
    let now = output::now();
    if json {
        let listed: Vec<ListedReservation> = reservations
            .iter()
            .map(|summary| ListedReservation { summary, age_seconds: summary.received_at.age_ms(now) / 1000 })
            .collect();
        output::print_json(&listed);
    } else if reservations.is_empty() {
        let which = match status {
            StatusArg::All => String::new(),
            StatusArg::Only(_) => format!("{status} "),
        };
        outln!("No {which}reservations stored in {}.", worker.base_url());
    } else {
        outln!("{}", output::reservations_table(&reservations, now));
        outln!("\n{} reservation{}", reservations.len(), if reservations.len() == 1 { "" } else { "s" });
    }
    Ok(exit::OK)
}
