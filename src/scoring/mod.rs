//! Explainable scoring of one application against one job.
