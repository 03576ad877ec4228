//! ats-operator: runs each tenant's ATS integration and scores applications explainably.

pub mod api;
pub mod audit;
pub mod controller;
pub mod demo;
pub mod devcluster;
pub mod devdb;
pub mod documents;
pub mod http;
pub mod ledger;
pub mod metrics;
pub mod model;
pub mod sandbox;
pub mod scoring;
pub mod supervised;
pub mod sync;
pub mod vendors;
pub mod webhooks;
