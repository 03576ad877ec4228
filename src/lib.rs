//! ats-operator: runs each tenant's ATS integration and scores applications explainably.

pub mod api;
// WIP pub mod controller;
pub mod devcluster;
pub mod ledger;
pub mod model;
pub mod sandbox;
pub mod scoring;
// WIP pub mod sync;
pub mod vendors;
