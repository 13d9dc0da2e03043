//! What the hub's rules need of SQLite: one statement at a time, with positional `?` bindings,
//! returning its rows. The Durable Object's `SqlStorage` implements it in the worker
//! (the Worker's `durable` module); `cargo test` runs the same statements on a host SQLite (`host`, tests
//! only), so the rules are tested against a real SQL engine, not a model of one.

/// One value bound to, or read from, a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl SqlValue {
    pub fn int(value: u64) -> SqlValue {
        SqlValue::Integer(i64::try_from(value).unwrap_or(i64::MAX))
    }

    pub fn text(value: &str) -> SqlValue {
        SqlValue::Text(value.to_owned())
    }

    /// An integer column (SQLite may hand back a whole real).
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            SqlValue::Integer(value) => u64::try_from(*value).ok(),
            SqlValue::Real(value) if value.fract() == 0.0 && *value >= 0.0 => Some(*value as u64),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            SqlValue::Text(text) => Some(text),
            _ => None,
        }
    }
}

/// SQLite refused a statement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SQLite: {0}")]
pub struct SqlFailure(pub String);

/// A database the hub's rules run on. Statements run one at a time on one thread; the worker's
/// implementation commits a run of them with no `.await` between as one unit.
pub trait Sql {
    /// Runs `statement` with `bindings`; returns its rows, each as its columns in order.
    fn exec(&mut self, statement: &str, bindings: Vec<SqlValue>) -> Result<Vec<Vec<SqlValue>>, SqlFailure>;

    /// Rows read and written so far, as the platform bills them (the host twin counts its
    /// SQLite's virtual-machine steps as rows read: a cost that grows as a query's work does).
    fn cost(&self) -> SqlCost;
}

/// What statements cost so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SqlCost {
    pub rows_read: u64,
    pub rows_written: u64,
}

/// The host twin: an in-memory SQLite through rusqlite.
#[cfg(test)]
pub mod host {
    use rusqlite::types::{ToSqlOutput, Value, ValueRef};

    use super::{Sql, SqlCost, SqlFailure, SqlValue};

    pub struct HostSql {
        connection: rusqlite::Connection,
        cost: SqlCost,
    }

    impl Default for HostSql {
        fn default() -> HostSql {
            HostSql { connection: rusqlite::Connection::open_in_memory().unwrap(), cost: SqlCost::default() }
        }
    }

    impl rusqlite::ToSql for SqlValue {
        fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
            Ok(match self {
                SqlValue::Null => ToSqlOutput::Owned(Value::Null),
                SqlValue::Integer(value) => ToSqlOutput::Owned(Value::Integer(*value)),
                SqlValue::Real(value) => ToSqlOutput::Owned(Value::Real(*value)),
                SqlValue::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            })
        }
    }

    impl Sql for HostSql {
        fn exec(&mut self, statement: &str, bindings: Vec<SqlValue>) -> Result<Vec<Vec<SqlValue>>, SqlFailure> {
            let failure = |error: rusqlite::Error| SqlFailure(error.to_string());
            let mut prepared = self.connection.prepare(statement).map_err(failure)?;
            let columns = prepared.column_count();
            let mut rows = prepared.query(rusqlite::params_from_iter(bindings.iter())).map_err(failure)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(failure)? {
                let mut values = Vec::with_capacity(columns);
                for index in 0..columns {
                    values.push(match row.get_ref(index).map_err(failure)? {
                        ValueRef::Null => SqlValue::Null,
                        ValueRef::Integer(value) => SqlValue::Integer(value),
                        ValueRef::Real(value) => SqlValue::Real(value),
                        ValueRef::Text(text) => SqlValue::Text(String::from_utf8_lossy(text).into_owned()),
                        ValueRef::Blob(_) => return Err(SqlFailure("a blob where text was expected".into())),
                    });
                }
                out.push(values);
            }
            drop(rows);
            self.cost.rows_read += prepared.get_status(rusqlite::StatementStatus::VmStep) as u64;
            if !prepared.readonly() {
                self.cost.rows_written += self.connection.changes();
            }
            Ok(out)
        }

        fn cost(&self) -> SqlCost {
            self.cost
        }
    }
}
