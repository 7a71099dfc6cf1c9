//! The store, against SQLite and PostgreSQL: every test runs on both.

use std::sync::Arc;

use drover_host::store::{NewDatastoreVersion, Store, StoreError, StoredDriver, Visibility};

use crate::common::db::TestDb;

/// Defines `<name>::sqlite` and `<name>::postgres`, each running `$body` with a fresh store.
macro_rules! on_both {
    ($name:ident, |$store:ident| $body:block) => {
        mod $name {
            use super::*;

            async fn run($store: Store) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let db = TestDb::sqlite();
                run(Store::connect(&db.url).await.expect("connect to SQLite")).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let db = TestDb::postgres();
                run(Store::connect(&db.url).await.expect("connect to PostgreSQL")).await;
            }
        }
    };
}

fn version(datastore: &str, name: &str) -> NewDatastoreVersion {
    NewDatastoreVersion {
        datastore_name: datastore.into(),
        name: name.into(),
        driver_name: datastore.into(),
        driver_requirement: "^0.1".into(),
        image: String::new(),
        packages: String::new(),
        active: true,
        default: None,
        visibility: Visibility::Public,
    }
}

on_both!(flavors_are_created_listed_and_unique, |store| {
    store.create_flavor("7", "small", 512, 1).await.unwrap();
    store.create_flavor("6", "tiny", 256, 1).await.unwrap();
    // Listed smallest first.
    let names: Vec<String> = store
        .flavors()
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(names, ["tiny", "small"]);
    // A second flavor with the same name is a conflict, not a database error.
    assert!(matches!(
        store.create_flavor("8", "small", 1024, 2).await,
        Err(StoreError::Conflict(_))
    ));
    // Seeding an existing id changes nothing.
    store.ensure_flavor("7", "renamed", 1, 1).await.unwrap();
    assert_eq!(store.flavor("7").await.unwrap().name, "small");
    store.delete_flavor("7").await.unwrap();
    assert!(matches!(
        store.flavor("7").await,
        Err(StoreError::NotFound(_))
    ));
});

on_both!(datastore_versions_register_their_datastore, |store| {
    let first = store
        .create_datastore_version(&version("kv", "1.0"))
        .await
        .unwrap();
    let second = store
        .create_datastore_version(&NewDatastoreVersion {
            default: Some(true),
            ..version("kv", "2.0")
        })
        .await
        .unwrap();
    // Registering a version for an unknown datastore creates the datastore.
    let datastore = store.datastore("kv").await.unwrap();
    assert_eq!(first.datastore_id, datastore.id);
    // The explicit default wins over the first version.
    assert_eq!(
        datastore.default_version_id.as_deref(),
        Some(second.id.as_str())
    );
    // The same version twice is refused with Trove's message.
    match store.create_datastore_version(&version("kv", "1.0")).await {
        Err(StoreError::Conflict(message)) => {
            assert_eq!(message, "Datastore Version Already Exists.")
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Versions are found by name within their datastore, and by id.
    assert_eq!(
        store
            .datastore_version_of(&datastore.id, "1.0")
            .await
            .unwrap()
            .id,
        first.id
    );
    assert_eq!(
        store.datastore_version(&second.id).await.unwrap().name,
        "2.0"
    );
    // Deactivate and make private.
    let updated = store
        .update_datastore_version(
            &first.id,
            None,
            Some("^0.2"),
            None,
            None,
            Some(false),
            Some(Visibility::Private),
            None,
        )
        .await
        .unwrap();
    assert!(!updated.active);
    assert_eq!(updated.visibility(), Visibility::Private);
    assert_eq!(updated.driver_requirement, "^0.2");
    store
        .add_datastore_version_member(&first.id, "project-a")
        .await
        .unwrap();
    assert_eq!(
        store.datastore_version_members(&first.id).await.unwrap(),
        ["project-a"]
    );
    // Flavors limited to the ones named; an unknown flavor is refused.
    store.create_flavor("1", "tiny", 256, 1).await.unwrap();
    store
        .set_datastore_version_flavors(&first.id, &["1".into()])
        .await
        .unwrap();
    assert_eq!(
        store.datastore_version_flavors(&first.id).await.unwrap(),
        ["1"]
    );
    assert!(matches!(
        store
            .set_datastore_version_flavors(&first.id, &["nope".into()])
            .await,
        Err(StoreError::NotFound(_))
    ));
    // Deleting the last version deletes the datastore.
    store.delete_datastore_version(&first.id).await.unwrap();
    store.delete_datastore_version(&second.id).await.unwrap();
    assert!(matches!(
        store.datastore("kv").await,
        Err(StoreError::NotFound(_))
    ));
});

on_both!(drivers_activate_roll_back_and_delete, |store| {
    let make = |digest: &str, version: &str| StoredDriver {
        digest: digest.into(),
        name: "kv".into(),
        version: version.into(),
        contract: "0.1.0".into(),
        manifest: "{}".into(),
        size: 3,
        uploaded_at: 1,
    };
    store
        .insert_driver(&make("sha256:a", "1.0.0"), b"one")
        .await
        .unwrap();
    store
        .insert_driver(&make("sha256:b", "2.0.0"), b"two")
        .await
        .unwrap();
    // Uploading the same digest again is harmless.
    store
        .insert_driver(&make("sha256:a", "1.0.0"), b"one")
        .await
        .unwrap();
    assert_eq!(store.driver_component("sha256:b").await.unwrap(), b"two");
    assert_eq!(store.activate_driver("kv", "sha256:a").await.unwrap(), None);
    assert_eq!(
        store
            .activate_driver("kv", "sha256:b")
            .await
            .unwrap()
            .as_deref(),
        Some("sha256:a")
    );
    let record = store.driver("sha256:a").await.unwrap();
    assert!(!record.active && record.previous);
    // Rollback swaps active and previous.
    assert_eq!(store.rollback_driver("kv").await.unwrap(), "sha256:a");
    assert!(store.driver("sha256:a").await.unwrap().active);
    // The active version cannot be deleted; the other can.
    assert!(matches!(
        store.delete_driver("sha256:a").await,
        Err(StoreError::Conflict(_))
    ));
    store.delete_driver("sha256:b").await.unwrap();
    assert!(matches!(
        store.rollback_driver("kv").await,
        Err(StoreError::Conflict(_))
    ));
});

on_both!(
    forty_concurrent_reservations_never_pass_a_limit_of_five,
    |store| {
        let store = Arc::new(store);
        let mut attempts = Vec::new();
        for _ in 0..40 {
            let store = store.clone();
            attempts.push(tokio::spawn(async move {
                let mut tx = store.write().await.unwrap();
                match tx.reserve("project-q", "instances", 1, 5).await {
                    Ok(reservation) => {
                        // Something else happens in the same transaction before it commits.
                        tokio::task::yield_now().await;
                        tx.commit().await.unwrap();
                        Some(reservation)
                    }
                    Err(StoreError::OverQuota { limit, .. }) => {
                        assert_eq!(limit, 5);
                        None
                    }
                    Err(other) => panic!("unexpected error: {other}"),
                }
            }));
        }
        let mut granted = Vec::new();
        for attempt in attempts {
            if let Some(reservation) = attempt.await.unwrap() {
                granted.push(reservation);
            }
        }
        // Exactly five of forty were granted, and the usage says so.
        assert_eq!(granted.len(), 5);
        let usage = store.usages("project-q").await.unwrap();
        assert_eq!((usage[0].in_use, usage[0].reserved), (0, 5));
        // Committing turns reservations into usage.
        let mut tx = store.write().await.unwrap();
        for reservation in &granted {
            tx.commit_reservation(reservation).await.unwrap();
        }
        tx.commit().await.unwrap();
        let usage = store.usages("project-q").await.unwrap();
        assert_eq!((usage[0].in_use, usage[0].reserved), (5, 0));
    }
);

on_both!(a_failed_creation_releases_its_reservation, |store| {
    // A creation whose transaction never commits leaves nothing reserved.
    {
        let mut tx = store.write().await.unwrap();
        tx.reserve("project-f", "volumes", 10, 20).await.unwrap();
        drop(tx);
    }
    assert!(
        store
            .usages("project-f")
            .await
            .unwrap()
            .iter()
            .all(|u| u.reserved == 0 && u.in_use == 0)
    );
    // A reservation released after the creation failed later is given back.
    let mut tx = store.write().await.unwrap();
    let reservation = tx.reserve("project-f", "volumes", 15, 20).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.write().await.unwrap();
    tx.release_reservation(&reservation).await.unwrap();
    tx.commit().await.unwrap();
    let usage = store.usages("project-f").await.unwrap();
    assert_eq!((usage[0].in_use, usage[0].reserved), (0, 0));
    // And the full limit is available again.
    let mut tx = store.write().await.unwrap();
    tx.reserve("project-f", "volumes", 20, 20).await.unwrap();
    // Past it, the error names the resource and the numbers.
    let error = tx.reserve("project-f", "volumes", 1, 20).await.unwrap_err();
    assert!(
        error.to_string().contains("volumes") && error.to_string().contains("limit of 20"),
        "{error}"
    );
});

on_both!(quota_overrides_replace_defaults_per_project, |store| {
    store.set_quota("p1", "instances", 3).await.unwrap();
    store.set_quota("p1", "instances", 4).await.unwrap();
    assert_eq!(
        store.quota_overrides("p1").await.unwrap(),
        [("instances".to_string(), 4)]
    );
    assert!(store.quota_overrides("p2").await.unwrap().is_empty());
});

on_both!(
    the_data_version_moves_with_every_commit_and_only_then,
    |store| {
        let before = store.data_version().await.unwrap();
        if store.kind() == "postgresql" {
            // Hosts share it and write without telling each other: it cannot tell.
            assert_eq!(before, None);
            return;
        }
        let before = before.expect("SQLite tells when it changed");
        // Reads change nothing.
        store.flavors().await.unwrap();
        assert_eq!(store.data_version().await.unwrap(), Some(before));
        // A write through the pool, and a transaction, each move it.
        store.ensure_flavor("f-dv", "dv", 512, 1).await.unwrap();
        let after_write = store.data_version().await.unwrap().unwrap();
        assert_ne!(after_write, before);
        let tx = store.write().await.unwrap();
        tx.commit().await.unwrap();
        store.create_flavor("f-dv2", "dv2", 512, 1).await.unwrap();
        assert_ne!(store.data_version().await.unwrap().unwrap(), after_write);
    }
);
