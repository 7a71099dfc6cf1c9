//! Wire types of Drover's REST API — the OpenStack Trove v1.0 API with Drover's additions —
//! and the OpenAPI 3.1 document generated from them. No logic beyond (de)serialisation and
//! the leniency real clients need (see [`common`]).
#![deny(missing_docs)]

pub mod accounts;
pub mod backups;
pub mod clusters;
pub mod common;
pub mod configurations;
pub mod datastores;
pub mod drivers;
pub mod error;
pub mod flavors;
pub mod instances;
pub mod mgmt;
pub mod openapi;
pub mod quotas;
pub mod versions;

pub use openapi::openapi;
