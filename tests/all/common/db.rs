//! Databases for store tests: a fresh SQLite file, or a fresh database on the machine's
//! PostgreSQL (127.0.0.1:5432, trust auth), dropped afterwards.

use std::process::Command;

/// The PostgreSQL server the tests use; override with DROVER_TEST_POSTGRES.
pub fn postgres_server() -> String {
    std::env::var("DROVER_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A database that exists for one test.
pub struct TestDb {
    /// Its URL.
    pub url: String,
    postgres_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A new SQLite file.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("drover.sqlite3").display()
        );
        TestDb {
            url,
            postgres_name: None,
            _dir: Some(dir),
        }
    }

    /// A new, empty PostgreSQL database. Fails (never skips) when PostgreSQL is not reachable.
    pub fn postgres() -> TestDb {
        let name = format!("drover_test_{}", uuid_like());
        let server = postgres_server();
        let output = Command::new("psql")
            .arg(format!("{server}/postgres"))
            .args([
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                &format!("CREATE DATABASE {name}"),
            ])
            .output()
            .expect("psql must be installed (Debian package postgresql-client-15)");
        assert!(
            output.status.success(),
            "PostgreSQL at {server} is needed for the store tests (package postgresql-15, started): {}",
            String::from_utf8_lossy(&output.stderr)
        );
        TestDb {
            url: format!("{server}/{name}"),
            postgres_name: Some(name),
            _dir: None,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.postgres_name {
            let _ = Command::new("psql")
                .arg(format!("{}/postgres", postgres_server()))
                .args([
                    "-c",
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ])
                .output();
        }
    }
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}{:x}", nanos, std::process::id())
}
