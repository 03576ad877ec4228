//! Vendor sandboxes: HTTP servers that behave as the vendors documented APIs do.
