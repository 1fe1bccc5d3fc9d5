#![doc = include_str!("../README.md")]

mod in_memory;
mod redis_cart;
mod redis_rate;

pub use in_memory::InMemoryCartStore;
pub use redis_cart::{ConnectError, RedisCartStore, is_unavailable};
pub use redis_rate::RedisRateLimiter;
