//! Simulator.

use axum::http::StatusCode;
use axum::Router;

use crate::config::SimCredentials;
use crate::sim::world::World;

pub fn router(_world: &World, _credentials: &SimCredentials) -> Router {
    Router::new().fallback(|| async { StatusCode::NOT_FOUND })
}
