//! The hub's tables, made once when the object starts (as workers-rs's `sql_counter` example
//! does). A hub that ran the earlier layout (KV the store of record, the hub a copy) has no
//! `meta` table: its copy is dropped and the hub imports from KV once ([`Schema::import_due`]).
//!
//! | table | holds |
//! | --- | --- |
//! | `reservations` | each reservation's status, who set it and when, its task, when TaskRouter times it out, its console card, and a digest of its callback's parameters |
//! | `tasks` | tasks that ended, and how: a callback arriving later still learns of it |
//! | `claims` | the decision in flight per reservation: its owner, token and end |
//! | `outcomes` | each reservation's outcomes once, for the day |
//! | `day_bars`, `day_totals`, `accept_bars`, `accept_totals` | the day in running counts (`day.rs`) |
//! | `read_backs` | when a catch-up last read each reservation back from TaskRouter (`catch_up.rs`) |
//! | `meta` | the schema's version, whether an import from KV is due, each channel's last event, each Workspace's catch-up cursor and the last catch-up's report |

use super::sql::{Sql, SqlFailure, SqlValue};

pub const VERSION: &str = "2";

const TABLES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS reservations (sid TEXT PRIMARY KEY, task_sid TEXT NOT NULL, status TEXT NOT NULL, source TEXT NOT NULL, received_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, digest TEXT NOT NULL, card TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS reservations_by_arrival ON reservations (received_ms, sid)",
    "CREATE INDEX IF NOT EXISTS reservations_by_status ON reservations (status, received_ms, sid)",
    "CREATE INDEX IF NOT EXISTS reservations_by_task ON reservations (task_sid)",
    "CREATE INDEX IF NOT EXISTS reservations_by_update ON reservations (updated_ms)",
    "CREATE TABLE IF NOT EXISTS tasks (task_sid TEXT PRIMARY KEY, ending TEXT NOT NULL, at_ms INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS tasks_by_time ON tasks (at_ms)",
    "CREATE TABLE IF NOT EXISTS claims (sid TEXT PRIMARY KEY, decision TEXT NOT NULL, owner TEXT NOT NULL, actor TEXT NOT NULL, token TEXT NOT NULL, since_ms INTEGER NOT NULL, until_ms INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS outcomes (sid TEXT NOT NULL, outcome TEXT NOT NULL, at_ms INTEGER NOT NULL, accept_ms INTEGER, PRIMARY KEY (sid, outcome))",
    "CREATE INDEX IF NOT EXISTS outcomes_by_time ON outcomes (at_ms)",
];

/// The earlier layout's tables, a copy of KV's records: dropped when this schema is first made.
const EARLIER: &[&str] =
    &["DROP TABLE IF EXISTS reservations", "DROP TABLE IF EXISTS decisions", "DROP TABLE IF EXISTS outcomes"];

pub struct Schema;

impl Schema {
    /// Makes the tables if they are not there; returns whether this hub has never imported
    /// from KV (it is new, or it ran the earlier layout).
    pub fn create(sql: &mut impl Sql) -> Result<bool, SqlFailure> {
        sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)", vec![])?;
        let version = sql.exec("SELECT value FROM meta WHERE key = 'schema'", vec![])?;
        let current = version.first().and_then(|row| row.first()).and_then(SqlValue::as_str) == Some(VERSION);
        if !current {
            for statement in EARLIER {
                sql.exec(statement, vec![])?;
            }
        }
        for statement in TABLES.iter().chain(super::day::TABLES).chain(super::catch_up::TABLES) {
            sql.exec(statement, vec![])?;
        }
        if !current {
            sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)", vec![SqlValue::text(VERSION)])?;
            sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('import', 'due')", vec![])?;
        }
        Self::import_due(sql)
    }

    /// Whether an import from KV is due: the hub never imported, or the worker could not hand it
    /// a callback and said so ([`Self::mark_import_due`]).
    pub fn import_due(sql: &mut impl Sql) -> Result<bool, SqlFailure> {
        let rows = sql.exec("SELECT value FROM meta WHERE key = 'import'", vec![])?;
        Ok(rows.first().and_then(|row| row.first()).and_then(SqlValue::as_str) == Some("due"))
    }

    pub fn mark_import_due(sql: &mut impl Sql) -> Result<(), SqlFailure> {
        sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('import', 'due')", vec![]).map(drop)
    }

    pub fn mark_imported(sql: &mut impl Sql) -> Result<(), SqlFailure> {
        sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('import', 'done')", vec![]).map(drop)
    }
}
