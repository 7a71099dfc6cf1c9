//! The quick start as a newcomer meets it: `drover serve` on a state directory given
//! relative to its working directory (`scripts/serve` uses `--state-dir var`), in token mode,
//! reached the way the README says, with the real `openstack` client and a member token in
//! the environment. Every datastore's instance becomes ACTIVE and answers its own client.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::clients::{PROJECT, openstack, succeeded};
use crate::common::api::{Client, token};
use crate::common::nodes::{port, redis_cli, wait_status};
use crate::common::server::{Options, Server};
use crate::mariadb::mariadb;
use crate::nodes::require_binary;
use crate::postgresql::psql;

const BUILD: Duration = Duration::from_secs(240);

/// An instance the README's way: name, datastore, version, the client's extra arguments, and
/// whether the datastore's own client gets an answer on a port.
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    fn(u16) -> bool,
);

/// `openstack <args> -f json` with the README's environment (`OS_AUTH_TYPE=admin_token`, the
/// token, the endpoint) and nothing else: what it printed.
#[track_caller]
fn openstack_as_in_the_readme(server: &Server, token: &str, args: &[&str]) -> Value {
    let output = Command::new(openstack())
        .args(args)
        .args(["-f", "json"])
        .env_remove("OS_CLOUD")
        .env("OS_AUTH_TYPE", "admin_token")
        .env("OS_TOKEN", token)
        .env("OS_ENDPOINT", format!("{}/v1.0/{PROJECT}", server.base))
        .output()
        .expect("openstack runs");
    serde_json::from_slice(&succeeded(args, output)).expect("openstack printed JSON")
}

#[test]
fn the_readme_example_works_against_a_relative_state_directory_in_token_mode() {
    require_binary("redis-server", "redis-server");
    require_binary("postgres", "postgresql-15");
    require_binary("mariadbd", "mariadb-server");
    let server = Server::start(Options {
        relative_state: true,
        ..Default::default()
    });
    // Made as scripts/serve makes it: by the CLI, on the same state directory.
    let token = token(server.state_dir(), PROJECT, "member");
    let client = Client::new(&server.base, PROJECT, Some(&token));
    let cases: [Case; 3] = [
        (
            "pg1",
            "postgresql",
            "15",
            &["--databases", "appdb", "--users", "app:secret"],
            |port| psql(port, "app", "secret", "appdb", "SELECT 1") == (true, "1".into()),
        ),
        (
            "maria1",
            "mariadb",
            "10.11",
            &["--databases", "appdb", "--users", "app:secret"],
            |port| mariadb(port, "app", "secret", "appdb", "SELECT 1") == (true, "1".into()),
        ),
        (
            "redis1",
            "redis",
            "7.0",
            &["--users", "app:secret"],
            |port| redis_cli(port, "app", "secret", &["PING"]) == "PONG",
        ),
    ];
    let mut created = Vec::new();
    for (name, datastore, version, extra, _) in &cases {
        let mut args = vec![
            "database",
            "instance",
            "create",
            name,
            "--flavor",
            "2",
            "--size",
            "1",
            "--datastore",
            datastore,
            "--datastore-version",
            version,
        ];
        args.extend_from_slice(extra);
        let shown = openstack_as_in_the_readme(&server, &token, &args);
        created.push(shown["id"].as_str().expect("an id").to_string());
    }
    let listed = openstack_as_in_the_readme(&server, &token, &["database", "instance", "list"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(3), "{listed}");
    for (id, (name, datastore, _, _, answers)) in created.iter().zip(&cases) {
        let instance = wait_status(&server, &client, id, "ACTIVE", BUILD);
        let port = port(&instance);
        assert!(
            answers(port),
            "{name} ({datastore}) is ACTIVE on port {port} but does not answer its client"
        );
    }
    for id in &created {
        client.delete(&format!("instances/{id}")).expect(202);
    }
}
