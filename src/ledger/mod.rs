//! The audit ledger: every decision, write-back state and sync cursor.
