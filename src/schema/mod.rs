//! The GraphQL schema over the unified model.

pub mod complexity;
pub mod enums;
pub mod errors;
pub mod federation;
pub mod ids;
pub mod mutation;
pub mod query;
pub mod scalars;
pub mod subscription;
pub mod types;

use std::sync::Arc;

use async_graphql::futures_util::stream::BoxStream;
use async_graphql::{Data, Executor, ObjectType, Request, Response, Schema, SchemaBuilder};

use crate::config::ServerSettings;
use crate::events::ReturnEvents;

/// The schema clients see (`schema.graphql`).
pub type PlainSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// The same schema as a federation v2 subgraph (`server.federation`): `_service` and
/// `_entities` besides, and the entities' `@key`s (`schema.federation.graphql`).
pub type FederatedSchema =
    Schema<federation::FederatedQuery, mutation::Mutation, subscription::Subscription>;

/// The schema a gateway serves: the plain one, or the subgraph when `server.federation` is on
/// (two Rust types, for their query roots differ).
#[derive(Clone)]
pub enum GatewaySchema {
    Plain(PlainSchema),
    Federated(FederatedSchema),
}

impl GatewaySchema {
    pub async fn execute(&self, request: Request) -> Response {
        match self {
            GatewaySchema::Plain(schema) => schema.execute(request).await,
            GatewaySchema::Federated(schema) => schema.execute(request).await,
        }
    }

    pub fn execute_stream(&self, request: Request) -> BoxStream<'static, Response> {
        match self {
            GatewaySchema::Plain(schema) => schema.execute_stream(request),
            GatewaySchema::Federated(schema) => schema.execute_stream(request),
        }
    }
}

impl Executor for GatewaySchema {
    async fn execute(&self, request: Request) -> Response {
        GatewaySchema::execute(self, request).await
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        match self {
            GatewaySchema::Plain(schema) => Executor::execute_stream(schema, request, session_data),
            GatewaySchema::Federated(schema) => {
                Executor::execute_stream(schema, request, session_data)
            }
        }
    }
}

/// The schema with what every request shares (the server settings, the event hub).
/// Per-request data is added by the HTTP layer: the caller, its tenant's service
/// (`Arc<Service>`), the request's loaders and the idempotency key header.
pub fn build(events: Arc<ReturnEvents>, server: &ServerSettings) -> GatewaySchema {
    if server.federation {
        let builder = Schema::build(
            federation::FederatedQuery,
            mutation::Mutation,
            subscription::Subscription,
        )
        .enable_federation();
        GatewaySchema::Federated(configure(builder, events, server).finish())
    } else {
        let builder = Schema::build(query::Query, mutation::Mutation, subscription::Subscription);
        GatewaySchema::Plain(configure(builder, events, server).finish())
    }
}

/// The settings both schemas share: data, limits, introspection and suggestions.
fn configure<Q: ObjectType + 'static>(
    builder: SchemaBuilder<Q, mutation::Mutation, subscription::Subscription>,
    events: Arc<ReturnEvents>,
    server: &ServerSettings,
) -> SchemaBuilder<Q, mutation::Mutation, subscription::Subscription> {
    let mut builder = builder
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
    builder
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

/// The subgraph's SDL, as `_service { sdl }` answers it to a router (what async-graphql exports
/// for federation: `@key`s, the `@link` to federation v2, no `Subscription`);
/// `schema.federation.graphql` at the top of the repository is exactly this.
pub fn federation_sdl() -> String {
    Schema::build(
        federation::FederatedQuery,
        mutation::Mutation,
        subscription::Subscription,
    )
    .register_output_type::<types::Node>()
    .enable_federation()
    .finish()
    .sdl_with_options(
        async_graphql::SDLExportOptions::new()
            .federation()
            .compose_directive(),
    )
}
