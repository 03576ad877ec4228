//! One PostgreSQL per test binary (see `ats_operator::devdb`), a database per
//! test: `let url = support::postgres::database_url();`.

use std::sync::OnceLock;

use ats_operator::devdb::{DevPostgres, DevPostgresOptions};
use rand::RngCore;

static SERVER: OnceLock<DevPostgres> = OnceLock::new();

/// Starts the server on first use; it stops when the test process exits.
/// Without PostgreSQL installed this fails the test, naming scripts/setup.sh.
pub fn server() -> &'static DevPostgres {
    SERVER.get_or_init(|| {
        DevPostgres::start(DevPostgresOptions::default())
            .unwrap_or_else(|e| panic!("could not start the test PostgreSQL: {e}"))
    })
}

/// A new, empty database of its own; its connection URL (with the password).
pub fn database_url() -> String {
    let name = format!("t_{:016x}", rand::thread_rng().next_u64());
    server()
        .create_database(&name)
        .unwrap_or_else(|e| panic!("creating a test database: {e}"))
}
