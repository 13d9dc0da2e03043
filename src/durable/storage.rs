//! The Durable Object's SQLite (`state.storage().sql()`) behind [`Sql`]. A run of `exec` calls
//! with no `.await` between them commits as one unit.

use worker::{SqlStorage, SqlStorageValue};

use taskrouter_core::hub::sql::{Sql, SqlCost, SqlFailure, SqlValue};

pub struct DurableSql {
    sql: SqlStorage,
    cost: SqlCost,
}

impl DurableSql {
    pub fn new(sql: SqlStorage) -> DurableSql {
        DurableSql { sql, cost: SqlCost::default() }
    }

    /// What this request's statements cost, for its log line; counting starts again.
    pub fn take_cost(&mut self) -> SqlCost {
        std::mem::take(&mut self.cost)
    }
}

fn binding(value: SqlValue) -> SqlStorageValue {
    match value {
        SqlValue::Null => SqlStorageValue::Null,
        SqlValue::Integer(value) => SqlStorageValue::Integer(value),
        SqlValue::Real(value) => SqlStorageValue::Float(value),
        SqlValue::Text(text) => SqlStorageValue::String(text),
    }
}

fn read(value: SqlStorageValue) -> Result<SqlValue, SqlFailure> {
    Ok(match value {
        SqlStorageValue::Null => SqlValue::Null,
        SqlStorageValue::Boolean(value) => SqlValue::Integer(i64::from(value)),
        SqlStorageValue::Integer(value) => SqlValue::Integer(value),
        SqlStorageValue::Float(value) => SqlValue::Real(value),
        SqlStorageValue::String(text) => SqlValue::Text(text),
        SqlStorageValue::Blob(_) => return Err(SqlFailure("a blob where text was expected".into())),
    })
}

impl Sql for DurableSql {
    fn exec(&mut self, statement: &str, bindings: Vec<SqlValue>) -> Result<Vec<Vec<SqlValue>>, SqlFailure> {
        let failure = |error: worker::Error| SqlFailure(error.to_string());
        let cursor =
            self.sql.exec(statement, bindings.into_iter().map(binding).collect::<Vec<_>>()).map_err(failure)?;
        let mut rows = Vec::new();
        for row in cursor.raw() {
            rows.push(row.map_err(failure)?.into_iter().map(read).collect::<Result<Vec<_>, _>>()?);
        }
        self.cost.rows_read += cursor.rows_read() as u64;
        self.cost.rows_written += cursor.rows_written() as u64;
        Ok(rows)
    }

    fn cost(&self) -> SqlCost {
        self.cost
    }
}
