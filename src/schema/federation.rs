//! The federation v2 subgraph (`server.federation = true`): the query root with the entity
//! resolvers a supergraph router calls through `_entities`, and nothing else.
//!
//! async-graphql turns federation on for any query root with an entity resolver, so the plain
//! root ([`Query`]) has none: [`FederatedQuery`] is that root plus [`Entities`], under the same
//! name. Each resolver is a lookup the plain graph already has (`return(id)`, `order(id)`,
//! `customer(email)`, `tracking`, `node(id)`), through the same service calls and loaders, and
//! asks for the same scope.
//!
//! A representation that cannot be resolved answers `null` in its place: an unknown key
//! silently, a malformed one or a missing scope with an error. An `Err` would fail every
//! representation of the request (async-graphql joins them), so none is returned.

use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{resolve_container, ContainerType};
use async_graphql::{
    Context, ContextSelectionSet, Object, ObjectType, OutputType, Positioned, ServerResult, Value,
    ID,
};

use super::errors::{invalid_argument, permitted, reported, service_error};
use super::ids::{GlobalId, NodeKind};
use super::query::{find_order, find_return, Query};
use super::types::{loaders, service, CustomerNode, OrderNode, ReturnNode, ShipmentNode};
use crate::auth::Scope;
use crate::service::customers::{ContactKey, CustomerRef};
use crate::service::loaders::ParcelKey;

/// The entity resolvers; each argument is a `@key` of the type it returns.
pub struct Entities;

/// `null` for a representation, with why in `errors`.
fn unresolved<T>(ctx: &Context<'_>, error: async_graphql::Error) -> Option<T> {
    ctx.add_error(ctx.set_error_path(error.into_server_error(ctx.item.pos)));
    None
}

/// The global id in a representation, if it is one of a `kind`.
fn global_id(ctx: &Context<'_>, id: &ID, kind: NodeKind, what: &str) -> Option<GlobalId> {
    match GlobalId::decode(id).filter(|g| g.kind == kind) {
        Some(global) => Some(global),
        None => unresolved(ctx, invalid_argument("id", format!("not the id of {what}"))),
    }
}

#[Object]
impl Entities {
    /// `Return @key(fields: "id")`, as `return(id)`.
    #[graphql(entity)]
    async fn return_by_id(&self, ctx: &Context<'_>, id: ID) -> Option<ReturnNode> {
        if !permitted(ctx, Scope::ReturnsRead) {
            return None;
        }
        let global = global_id(ctx, &id, NodeKind::Return, "a return")?;
        find_return(ctx, &global).await
    }

    /// `Order @key(fields: "id")`, as `order(id)`.
    #[graphql(entity)]
    async fn order_by_id(&self, ctx: &Context<'_>, id: ID) -> Option<OrderNode> {
        if !permitted(ctx, Scope::OrdersRead) {
            return None;
        }
        let global = global_id(ctx, &id, NodeKind::Order, "an order")?;
        find_order(ctx, &global).await
    }

    /// `Order @key(fields: "reference")`, the channel reference, as `Return.order` resolves it
    /// (through the request's order loader, so a router's batch is one lookup).
    #[graphql(entity)]
    async fn order_by_reference(&self, ctx: &Context<'_>, reference: String) -> Option<OrderNode> {
        if !permitted(ctx, Scope::OrdersRead) {
            return None;
        }
        let reference = reference.trim();
        if reference.is_empty() {
            return unresolved(ctx, invalid_argument("reference", "must not be empty"));
        }
        let found = loaders(ctx).order(reference.to_owned()).await;
        reported(ctx, found).flatten().map(OrderNode::new)
    }

    /// `Customer @key(fields: "id")`, as `node(id)`.
    #[graphql(entity)]
    async fn customer_by_id(&self, ctx: &Context<'_>, id: ID) -> Option<CustomerNode> {
        if !permitted(ctx, Scope::ReturnsRead) {
            return None;
        }
        let global = global_id(ctx, &id, NodeKind::Customer, "a customer")?;
        let Some(customer) = CustomerRef::parse(&global.native) else {
            return unresolved(ctx, invalid_argument("id", "not the id of a customer"));
        };
        match service(ctx).customer_by_ref(loaders(ctx), customer).await {
            Ok(answer) => CustomerNode::answered(ctx, answer),
            Err(e) => unresolved(ctx, service_error(e)),
        }
    }

    /// `Customer @key(fields: "email")`, as `customer(email)`: matched after normalisation.
    #[graphql(entity)]
    async fn customer_by_email(&self, ctx: &Context<'_>, email: String) -> Option<CustomerNode> {
        if !permitted(ctx, Scope::ReturnsRead) {
            return None;
        }
        let key = match ContactKey::from_email(&email) {
            Ok(key) => key,
            Err(e) => return unresolved(ctx, service_error(e)),
        };
        match service(ctx).customer(loaders(ctx), key).await {
            Ok(answer) => CustomerNode::answered(ctx, answer),
            Err(e) => unresolved(ctx, service_error(e)),
        }
    }

    /// `Shipment @key(fields: "id")`, as `node(id)` and `tracking(trackingNumber)`.
    #[graphql(entity)]
    async fn shipment_by_id(&self, ctx: &Context<'_>, id: ID) -> Option<ShipmentNode> {
        if !permitted(ctx, Scope::TrackingRead) {
            return None;
        }
        let global = global_id(ctx, &id, NodeKind::Shipment, "a shipment")?;
        ShipmentNode::load(ctx, ParcelKey::new(global.native, None)).await
    }
}

/// The subgraph's query root: [`Query`]'s fields under its name, and [`Entities`]' keys.
///
/// Written out rather than derived: `MergedObject` would register [`Query`] under a name of its
/// own, and the root must keep the name `Query`.
pub struct FederatedQuery;

impl ContainerType for FederatedQuery {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        Query.resolve_field(ctx).await
    }

    async fn find_entity(&self, ctx: &Context<'_>, params: &Value) -> ServerResult<Option<Value>> {
        Entities.find_entity(ctx, params).await
    }
}

impl OutputType for FederatedQuery {
    fn type_name() -> std::borrow::Cow<'static, str> {
        <Query as OutputType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        // `Entities` adds the keys to the entity types (its own type is unused, and dropped).
        <Entities as OutputType>::create_type_info(registry);
        <Query as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<async_graphql::parser::types::Field>,
    ) -> ServerResult<Value> {
        resolve_container(ctx, self).await
    }
}

impl ObjectType for FederatedQuery {}
