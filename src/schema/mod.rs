//! The GraphQL schema over the unified model.

pub mod complexity;
pub mod enums;
pub mod errors;
pub mod ids;
pub mod mutation;
pub mod query;
pub mod scalars;
pub mod subscription;
pub mod types;

use std::sync::Arc;

use async_graphql::Schema;

use crate::config::ServerSettings;
use crate::events::ReturnEvents;

pub type GatewaySchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// The schema with what every request shares (the server settings, the event hub).
/// Per-request data is added by the HTTP layer: the caller, its tenant's service
/// (`Arc<Service>`), the request's loaders and the idempotency key header.
pub fn build(events: Arc<ReturnEvents>, server: &ServerSettings) -> GatewaySchema {
    let mut builder = Schema::build(query::Query, mutation::Mutation, subscription::Subscription)
        .data(events)
        .data(server.clone())
        .register_output_type::<types::Node>()
        .limit_depth(server.max_depth)
        .limit_complexity(server.max_complexity)
        .extension(complexity::TypenameComplexity::new(server.max_complexity))
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
    Schema::build(query::Query, mutation::Mutation, subscription::Subscription)
        .register_output_type::<types::Node>()
        .finish()
        // As introspection shows them: `@specifiedBy` on the scalars that have a specification.
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
