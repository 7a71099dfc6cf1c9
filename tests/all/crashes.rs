//! A host killed at any moment of a create: the instance still reaches ACTIVE with exactly
//! one server process, and once it is deleted nothing of it is left running. The nodes
//! outlive the killed host by design (the datastores keep serving while the control plane
//! restarts), so a command or a server the dead host had just started is still there when the
//! next one looks: it must adopt it or kill it, never run a second server beside it.

use std::time::Duration;

use crate::common::api::Client;
use crate::common::nodes::{
    app_user, create_instance, node_dir, node_servers, node_uid, port, processes_of_uid, redis_cli,
    require_root, still_running, those_processes, wait_gone, wait_status,
};
use crate::common::server::{Options, PortBlock, Server};
use crate::mariadb::mariadb;
use crate::nodes::require_binary;
use crate::postgresql::psql;

/// Moments into a create at which the host is killed.
const DELAYS_MS: &[u64] = &[0, 50, 100, 300, 1000, 2000];
/// How often each moment is tried.
const ROUNDS: usize = 3;

fn options() -> Options {
    Options {
        args: vec!["--auth".into(), "noauth".into()],
        ..Default::default()
    }
}

/// Creates instances of `datastore` and kills the host `delay` ms into each create, for every
/// delay, `ROUNDS` times; each instance must converge to one server that answers, and leave
/// nothing behind once deleted.
fn creates_survive_a_killed_host(datastore: &str, version: &str, answers: fn(u16) -> bool) {
    let state = tempfile::Builder::new()
        .prefix("drover-e2e-")
        .tempdir()
        .unwrap();
    let mut server =
        Server::start_with_ports(state, options(), std::sync::Arc::new(PortBlock::claim()));
    for &delay in DELAYS_MS {
        for round in 0..ROUNDS {
            let client = Client::new(&server.base, "p1", None);
            let id = create_instance(
                &client,
                &format!("k{delay}-{round}"),
                datastore,
                version,
                app_user(datastore, "app-secret"),
            );
            std::thread::sleep(Duration::from_millis(delay));
            let (state, ports) = server.kill();
            server = Server::start_with_ports(state, options(), ports);
            let client = Client::new(&server.base, "p1", None);
            let instance = wait_status(&server, &client, &id, "ACTIVE", Duration::from_secs(240));
            let port = port(&instance);
            let dir = node_dir(&server, port);
            let servers = node_servers(&dir);
            assert_eq!(
                servers.len(),
                1,
                "{datastore} killed {delay} ms into a create (round {round}): server processes {servers:?}"
            );
            assert!(
                answers(port),
                "{datastore} killed {delay} ms into a create (round {round}) does not answer"
            );
            // Everything running as the node's user now is the node's (its uid may go to
            // another node, of another test, as soon as this one is gone).
            let theirs = those_processes(processes_of_uid(node_uid(&dir)));
            client.delete(&format!("instances/{id}")).expect(202);
            wait_gone(&server, &client, &id, Duration::from_secs(120));
            assert!(!dir.exists(), "{} is left", dir.display());
            let left = still_running(&theirs);
            assert!(
                left.is_empty(),
                "{datastore} killed {delay} ms into a create (round {round}): processes {left:?} outlived the delete"
            );
        }
    }
}

#[test]
fn redis_creates_converge_to_one_server_whenever_the_host_is_killed() {
    require_root("the host-kill matrix");
    require_binary("redis-server", "redis-server");
    creates_survive_a_killed_host("redis", "7.0", |port| {
        redis_cli(port, "app", "app-secret", &["PING"]) == "PONG"
    });
}

#[test]
fn postgresql_creates_converge_to_one_server_whenever_the_host_is_killed() {
    require_root("the host-kill matrix");
    require_binary("postgres", "postgresql-15");
    creates_survive_a_killed_host("postgresql", "15", |port| {
        psql(port, "app", "app-secret", "postgres", "SELECT 1") == (true, "1".to_string())
    });
}

#[test]
fn mariadb_creates_converge_to_one_server_whenever_the_host_is_killed() {
    require_root("the host-kill matrix");
    require_binary("mariadbd", "mariadb-server");
    creates_survive_a_killed_host("mariadb", "10.11", |port| {
        mariadb(port, "app", "app-secret", "", "SELECT 1") == (true, "1".to_string())
    });
}
