//! `reservations`: the operator's command-line tool for taskrouter-edge.

use clap::Parser;

/// List TaskRouter reservations stored by a taskrouter-edge worker, and accept or reject them
/// over Twilio's REST API.
#[derive(Parser)]
#[command(name = "reservations", version)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    Cli::parse();
    Ok(())
}
