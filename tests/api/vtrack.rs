//! vtrack: wire samples, client against its simulator, typed errors, pagination.
