//! Greenhouse Harvest v3 (OAuth 2.0 client credentials). Harvest v1/v2 were
//! switched off on 2026-08-31.

pub mod client;
pub mod mapping;
pub mod sandbox;

pub use client::GreenhouseClient;
