//! Wire types: exactly as the vendor documents them.
