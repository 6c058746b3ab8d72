//! The Kakehashi binary's library half: configuration, wiring, and the commands, so that the
//! integration tests start exactly what `kakehashi serve` starts.

pub mod commands;
pub mod demo;
pub mod demo_data;
pub mod progress;
pub mod relevance;
pub mod settings;
pub mod startup;
pub mod telemetry;

pub use settings::Settings;
pub use startup::Application;
