//! Wire types → unified model.
