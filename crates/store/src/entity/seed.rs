//! Seeds: a research result, its public and confidential parts and its life-cycle status.

record_entity!("seeds", { summary: String, confidential: Json, stage: String, ip_status: String });
