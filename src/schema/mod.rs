//! The GraphQL schema over the unified model.

pub mod directory;
pub mod enums;
pub mod errors;
pub mod ids;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod types;

use std::sync::Arc;

use async_graphql::{EmptySubscription, Schema};

use crate::config::ServerSettings;
use crate::idempotency::IdempotencyStore;
use crate::upstream::Upstreams;

pub type GatewaySchema = Schema<query::Query, mutation::Mutation, EmptySubscription>;

/// The schema with what every request shares (the upstreams, the server settings). Per-request
/// data (the loaders) is added by the HTTP handler.
pub fn build(
    upstreams: Arc<Upstreams>,
    idempotency: Arc<IdempotencyStore>,
    server: &ServerSettings,
) -> GatewaySchema {
    let mut builder = Schema::build(query::Query, mutation::Mutation, EmptySubscription)
        .data(upstreams)
        .data(idempotency)
        .data(server.clone())
        .register_output_type::<types::Node>()
        .limit_depth(server.max_depth)
        .limit_complexity(server.max_complexity)
        .limit_directives(server.max_directives)
        .limit_recursive_depth(server.max_recursive_depth);
    if !server.introspection {
        builder = builder.disable_introspection();
    }
    if !server.suggestions {
        builder = builder.disable_suggestions();
    }
    builder.finish()
}

/// The SDL clients see; `schema.graphql` at the top of the repository is exactly this.
pub fn sdl() -> String {
    Schema::build(query::Query, mutation::Mutation, EmptySubscription)
        .register_output_type::<types::Node>()
        .finish()
        .sdl()
}
