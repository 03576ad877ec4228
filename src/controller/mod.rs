//! Reconcile, status, finalizers and worker supervision.
