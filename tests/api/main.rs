//! One integration binary: every test talks HTTP to real servers on 127.0.0.1:0.

mod auth;
mod batching;
mod cli;
mod dates;
mod graphql;
mod helpers;
mod index;
mod limits;
mod logs;
mod merchantpro;
mod metrics;
mod mutations;
mod partial;
mod procarrier;
mod protections;
mod resilience;
mod rrr;
mod server;
mod sim_admin;
mod tenants;
mod tracking;
mod trackru;
mod vtrack;
mod webhooks;
mod websocket_limits;
mod ws;
