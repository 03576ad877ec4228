//! Sync workers: pull, map, score, write back, record.
