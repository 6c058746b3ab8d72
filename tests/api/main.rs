//! Black-box tests of Kakehashi: each test starts the real server on a free port with its own
//! data directory and database (a fresh `PostgreSQL` database per test when
//! `KAKEHASHI_TEST_DATABASE_URL` is set, `SQLite` otherwise) and talks HTTP to it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod world;

mod anonymity;
mod auth;
mod browser;
mod cli;
mod edges;
mod errors;
mod faults;
mod introductions;
mod lifecycle;
mod matches;
mod members;
mod migrations;
mod notifications;
mod operations;
mod pipeline;
mod records;
mod search;
mod sessions;
mod tokens;
mod understanding;
mod web;
mod web_editors;
mod web_ops;
