//! The `drover` command line, run as a real process.

use std::process::Command;

use serde_json::Value;

use crate::common::server::{Options, Server, drover_bin};

#[test]
fn serve_answers_version_documents_and_the_health_check() {
    let server = Server::start(Options {
        args: vec!["--auth".into(), "noauth".into()],
        ..Default::default()
    });
    let versions: Value = reqwest::blocking::get(format!("{}/", server.base))
        .unwrap()
        .json()
        .unwrap();
    // Trove's version list: one current v1.0 with a self link.
    assert_eq!(versions["versions"][0]["id"], "v1.0");
    assert_eq!(versions["versions"][0]["status"], "CURRENT");
    let version: Value = reqwest::blocking::get(format!("{}/v1.0", server.base))
        .unwrap()
        .json()
        .unwrap();
    // openstacksdk's discovery needs id, status and links.
    assert_eq!(version["version"]["id"], "v1.0");
    assert!(
        version["version"]["links"][0]["href"]
            .as_str()
            .unwrap()
            .ends_with("/v1.0/")
    );
    let health = reqwest::blocking::get(format!("{}/healthcheck", server.base)).unwrap();
    assert!(health.status().is_success());
    // The shipped drivers were found and activated at start.
    let log = server.log_text();
    assert!(
        log.contains("driver loaded and activated") && log.contains("redis@"),
        "{log}"
    );
}

#[test]
fn serve_takes_its_settings_from_the_environment() {
    let port = crate::common::server::free_port();
    let state = tempfile::tempdir().unwrap();
    let mut child = Command::new(drover_bin())
        .arg("serve")
        .env("DROVER_LISTEN", format!("127.0.0.1:{port}"))
        .env("DROVER_STATE_DIR", state.path())
        .env("DROVER_AUTH", "noauth")
        .env("DROVER_DRIVERS_DIR", drover_artifacts::DRIVERS_DIR)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut up = false;
    for _ in 0..600 {
        if reqwest::blocking::get(format!("http://127.0.0.1:{port}/healthcheck"))
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(up, "drover did not listen on the port DROVER_LISTEN named");
    // DROVER_STATE_DIR was used: the driver cache lives there.
    assert!(state.path().join("cache/drivers").is_dir());
}

#[test]
fn driver_inspect_prints_manifest_contract_digest_and_exports() {
    let output = Command::new(drover_bin())
        .args(["driver", "inspect", drover_artifacts::REDIS])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("driver:            redis 0.1.0"), "{text}");
    assert!(
        text.contains("contract:          drover:driver@0.1.0"),
        "{text}"
    );
    assert!(text.contains("digest:            sha256:"), "{text}");
    assert!(text.contains("drover:driver/configuration@0.1.0"), "{text}");
    assert!(text.contains("redis-server"), "{text}");
}

#[test]
fn driver_check_accepts_a_driver_and_says_what_is_wrong_with_others() {
    let good = Command::new(drover_bin())
        .args(["driver", "check", drover_artifacts::REDIS])
        .output()
        .unwrap();
    assert!(good.status.success());
    assert!(String::from_utf8_lossy(&good.stdout).starts_with("ok: redis@0.1.0"));

    let next = Command::new(drover_bin())
        .args(["driver", "check", drover_artifacts::CONTRACT_NEXT])
        .output()
        .unwrap();
    assert!(!next.status.success());
    let text = String::from_utf8_lossy(&next.stdout);
    assert!(
        text.contains("drover:driver@0.2.0") && text.contains("drover:driver@0.1.0"),
        "{text}"
    );

    let partial = Command::new(drover_bin())
        .args(["driver", "check", drover_artifacts::PARTIAL_EXPORTS])
        .output()
        .unwrap();
    assert!(!partial.status.success());
    assert!(String::from_utf8_lossy(&partial.stdout).contains("drover:driver/lifecycle"));
}

#[test]
fn an_unreadable_tokens_file_is_refused_at_start_and_logged_when_it_breaks_later() {
    // At start: the server does not run, and says which file and why.
    let state = tempfile::tempdir().unwrap();
    std::fs::write(state.path().join("tokens.json"), "{ not json").unwrap();
    let output = Command::new(drover_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--state-dir"])
        .arg(state.path())
        .args(["--drivers-dir", drover_artifacts::DRIVERS_DIR])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it started: {stderr}");
    assert!(stderr.contains("tokens.json"), "{stderr}");

    // While running: every token is refused and the log says why, once.
    let server = Server::start(Options::default());
    let admin = crate::common::api::admin_token(server.state_dir());
    let client = crate::common::api::Client::new(&server.base, "admin", Some(&admin));
    client.get("flavors").expect(200);
    let tokens = server.state_dir().join("tokens.json");
    let good = std::fs::read(&tokens).unwrap();
    std::fs::write(&tokens, "{ broken").unwrap();
    client.get("flavors").error("unauthorized", 401);
    client.get("flavors").error("unauthorized", 401);
    let log = server.log_text();
    assert_eq!(
        log.matches("the tokens file cannot be read").count(),
        1,
        "{log}"
    );
    std::fs::write(&tokens, good).unwrap();
    client.get("flavors").expect(200);
}
