#![doc = include_str!("../README.md")]

mod in_memory;
mod memory_cache;
mod redis_cache;
mod redis_cart;
mod redis_rate;

pub use in_memory::InMemoryCartStore;
pub use memory_cache::InMemoryCache;
pub use redis_cache::RedisCache;
pub use redis_cart::{ConnectError, RedisCartStore, is_unavailable};
pub use redis_rate::RedisRateLimiter;
