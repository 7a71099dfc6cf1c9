//! All of Drover's integration tests, in one binary (one link step), a module per area.

mod api;
mod cli;
mod clients;
mod common;
mod configurations;
mod crashes;
mod hardening;
mod hosts;
mod isolation;
mod keystone;
mod links;
mod many;
mod mariadb;
mod nodes;
mod postgresql;
mod quickstart;
mod redis;
mod replication;
mod runtime;
mod secrets;
mod shapes;
mod steps;
mod store;
mod tasks;
mod values;
