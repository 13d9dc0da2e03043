//! `reservations list [--status S] [--json]`

use anyhow::Result;

use crate::exit;
use crate::output::{self, ListedReservation};
use crate::worker::Worker;

pub async fn run(worker: &Worker, status: &str, json: bool) -> Result<u8> {
    let reservations = worker.list(status).await?;
    let now = output::now();
    if json {
        let listed: Vec<ListedReservation> = reservations
            .iter()
            .map(|summary| ListedReservation { summary, age_seconds: summary.received_at.age_ms(now) / 1000 })
            .collect();
        output::print_json(&listed);
    } else if reservations.is_empty() {
        println!("No {} reservations stored in {}.", if status == "all" { "" } else { status }, worker.base_url());
    } else {
        println!("{}", output::reservations_table(&reservations, now));
        println!("\n{} reservation{}", reservations.len(), if reservations.len() == 1 { "" } else { "s" });
    }
    Ok(exit::OK)
}
