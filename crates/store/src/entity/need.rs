//! Needs: what a company is looking for, its public part, anonymity and life-cycle status.

record_entity!("needs", { description: String, stages: Json, anonymous: bool });
