//! Lever: client, mapping to the common model, and the sandbox.

pub mod sandbox;
