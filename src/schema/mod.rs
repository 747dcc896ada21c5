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

/// What introspection answers for the schema's description (`__schema { description }`):
/// async-graphql 7 gives every schema this fixed sentence, and leaves it out of its SDL.
const SCHEMA_DESCRIPTION: &str = "A GraphQL Schema defines the capabilities of a GraphQL \
    server. It exposes all available types and directives on the server, as well as the entry \
    points for query, mutation, and subscription operations.";

/// The SDL clients see; `schema.graphql` at the top of the repository is exactly this, and says
/// what introspection says (tests/api/introspection.rs compares them through graphql-js).
pub fn sdl() -> String {
    let mut sdl = Schema::build(query::Query, mutation::Mutation, subscription::Subscription)
        .register_output_type::<types::Node>()
        .finish()
        // As introspection shows them: `@specifiedBy` on the scalars that have a specification.
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by());
    let schema_block = sdl.rfind("\nschema {").map_or(sdl.len(), |at| at + 1);
    sdl.insert_str(
        schema_block,
        &format!("\"\"\"\n{SCHEMA_DESCRIPTION}\n\"\"\"\n"),
    );
    sdl
}
