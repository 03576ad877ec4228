//! Greenhouse Harvest v3 (OAuth 2.0 client credentials).
