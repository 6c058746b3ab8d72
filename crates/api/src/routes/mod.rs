//! Route handlers, one module per area (`records` and `views` hold what several areas share).
//! Handlers parse, call one service function, and map.

pub mod admin;
pub mod auth;
pub mod introductions;
pub mod matches;
pub mod needs;
pub mod notifications;
pub mod ops;
pub mod records;
pub mod saved_searches;
pub mod search;
pub mod seeds;
pub mod views;
