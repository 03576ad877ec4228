//! Shared HTTP for vendor clients: rate limits, retries with backoff, OAuth tokens.
