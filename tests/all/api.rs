//! The control plane's API over real HTTP against the `drover` binary, on SQLite and on
//! PostgreSQL: versions, auth, policy, flavors, datastores and their registration, quotas and
//! limits, driver management, pagination, and every error code in Trove's envelope.

use serde_json::{Value, json};

use crate::common::api::{Client, admin_token, token};
use crate::common::db::TestDb;
use crate::common::server::{Options, Server};

/// A server on the given database with the tokens a test needs.
pub struct Setup {
    /// The server.
    pub server: Server,
    /// An admin of project "admin".
    pub admin: Client,
    /// A member of project "p1".
    pub member: Client,
    _db: Option<TestDb>,
}

impl Setup {
    /// Starts a server in token mode on `db` (None: SQLite) with extra arguments.
    pub fn start(db: Option<TestDb>, extra: &[&str]) -> Setup {
        let mut args: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
        if let Some(db) = &db {
            args.extend(["--database-url".to_string(), db.url.clone()]);
        }
        let server = Server::start(Options {
            args,
            ..Default::default()
        });
        let admin = Client::new(&server.base, "p1", Some(&admin_token(server.state_dir())));
        let member = Client::new(
            &server.base,
            "p1",
            Some(&token(server.state_dir(), "p1", "member")),
        );
        Setup {
            server,
            admin,
            member,
            _db: db,
        }
    }
}

/// Defines `<name>::sqlite` and `<name>::postgres`, each running `$body` against a fresh server.
macro_rules! on_both {
    ($name:ident, |$setup:ident| $body:block) => {
        mod $name {
            use super::*;

            fn run($setup: &Setup) $body

            #[test]
            fn sqlite() {
                run(&Setup::start(None, &[]));
            }

            #[test]
            fn postgres() {
                run(&Setup::start(Some(TestDb::postgres()), &[]));
            }
        }
    };
}

on_both!(version_documents_and_the_openapi_document, |setup| {
    let client = &setup.member;
    let versions = client.get("/").expect(200);
    assert_eq!(versions["versions"][0]["id"], "v1.0");
    let version = client.get("/v1.0").expect(200);
    assert_eq!(version["version"]["status"], "CURRENT");
    let openapi = client.get("/openapi.json").expect(200);
    assert_eq!(openapi["openapi"], "3.1.0");
    assert!(openapi["paths"]["/v1.0/{project_id}/instances"].is_object());
    // Every response carries a request id.
    let reply = client.get("flavors");
    let id = reply
        .headers
        .get("x-openstack-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(!id.is_empty(), "no request id");
});

on_both!(
    tokens_authenticate_and_keep_members_to_their_project,
    |setup| {
        // No token, or an unknown one: 401.
        let anonymous = Client::new(&setup.server.base, "p1", None);
        anonymous.get("flavors").error("unauthorized", 401);
        Client::new(&setup.server.base, "p1", Some("not-a-token"))
            .get("flavors")
            .error("unauthorized", 401);
        // A member uses its own project, not another's.
        setup.member.get("instances").expect(200);
        let message = setup
            .member
            .for_project("p2")
            .get("instances")
            .error("forbidden", 403);
        assert!(message.contains("p1"), "{message}");
        // An admin uses any project.
        setup.admin.for_project("p2").get("instances").expect(200);
        // The first start wrote the admin token readable by its owner only.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(setup.server.state_dir().join("admin-token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let tokens = std::fs::read_to_string(setup.server.state_dir().join("tokens.json")).unwrap();
        assert!(
            !tokens.contains(&admin_token(setup.server.state_dir())),
            "the tokens file holds a token in clear"
        );
    }
);

on_both!(
    configuration_groups_are_stored_changed_and_kept_to_their_project,
    |setup| {
        let client = &setup.member;
        let group = client
            .post(
                "configurations",
                json!({"configuration": {"name": "g1", "description": "d",
                "values": {"maxmemory-policy": "allkeys-lru", "appendonly": true},
                "datastore": {"type": "redis", "version": "7.0"}}}),
            )
            .expect(200)["configuration"]
            .clone();
        let id = group["id"].as_str().unwrap().to_string();
        // Values are stored as the driver normalised them.
        assert_eq!(group["values"]["appendonly"], "yes", "{group}");
        assert_eq!(group["datastore_name"], "redis");
        client
            .patch(
                &format!("configurations/{id}"),
                json!({"configuration": {"values": {"timeout": 300}}}),
            )
            .expect(200);
        let shown =
            client.get(&format!("configurations/{id}")).expect(200)["configuration"].clone();
        assert_eq!(shown["values"]["timeout"], 300, "{shown}");
        assert_eq!(
            shown["values"]["maxmemory-policy"], "allkeys-lru",
            "{shown}"
        );
        client
            .put(
                &format!("configurations/{id}"),
                json!({"configuration": {"name": "g2", "values": {"timeout": 60}}}),
            )
            .expect(202);
        let shown =
            client.get(&format!("configurations/{id}")).expect(200)["configuration"].clone();
        assert_eq!(shown["name"], "g2");
        assert_eq!(
            shown["values"],
            json!({"timeout": 60}),
            "PUT replaces the values"
        );
        // A bad value in an edit changes nothing.
        client
            .patch(
                &format!("configurations/{id}"),
                json!({"configuration": {"values": {"timeout": "soon"}}}),
            )
            .error("unprocessableEntity", 422);
        assert_eq!(
            client.get(&format!("configurations/{id}")).expect(200)["configuration"]["values"],
            json!({"timeout": 60})
        );
        assert_eq!(
            client
                .get(&format!("configurations/{id}/instances"))
                .expect(200)["instances"],
            json!([])
        );
        // Another project sees nothing; unknown ids are 404s.
        let other = Client::new(
            &setup.server.base,
            "p2",
            Some(&token(setup.server.state_dir(), "p2", "member")),
        );
        other
            .get(&format!("configurations/{id}"))
            .error("itemNotFound", 404);
        assert_eq!(
            other.get("configurations").expect(200)["configurations"],
            json!([])
        );
        client.get("configurations/nope").error("itemNotFound", 404);
        client.delete(&format!("configurations/{id}")).expect(202);
        assert_eq!(
            client.get("configurations").expect(200)["configurations"],
            json!([])
        );
    }
);

on_both!(flavors_are_listed_shown_and_managed_by_admins, |setup| {
    let flavors = setup.member.get("flavors").expect(200);
    let small = flavors["flavors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "small")
        .expect("the default flavors");
    // Numeric ids are numbers, and str_id is always there.
    assert_eq!(small["id"], 2);
    assert_eq!(small["str_id"], "2");
    assert_eq!(small["ram"], 512);
    assert_eq!(
        setup.member.get("flavors/2").expect(200)["flavor"]["name"],
        "small"
    );
    setup.member.get("flavors/nope").error("itemNotFound", 404);
    // Only admins define flavors.
    let new = json!({"flavor": {"id": "big-1", "name": "big", "ram": 4096, "vcpus": 4}});
    setup
        .member
        .post("mgmt/flavors", new.clone())
        .error("forbidden", 403);
    let created = setup.admin.post("mgmt/flavors", new.clone()).expect(200);
    assert_eq!(
        created["flavor"]["id"],
        Value::Null,
        "a non-numeric id is null, with str_id"
    );
    assert_eq!(created["flavor"]["str_id"], "big-1");
    setup.admin.post("mgmt/flavors", new).error("conflict", 409);
    setup.admin.delete("mgmt/flavors/big-1").expect(202);
    setup.member.get("flavors/big-1").error("itemNotFound", 404);
    // A method a route does not have.
    setup.member.delete("flavors").error("badMethod", 405);
});

on_both!(
    datastores_and_versions_are_listed_as_trove_lists_them,
    |setup| {
        let datastores = setup.member.get("datastores").expect(200);
        let names: Vec<&str> = datastores["datastores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap())
            .collect();
        for expected in ["mariadb", "postgresql", "redis"] {
            assert!(names.contains(&expected), "{names:?}");
        }
        let redis = setup.member.get("datastores/redis").expect(200)["datastore"].clone();
        let version_id = redis["versions"][0]["id"].as_str().unwrap().to_string();
        assert_eq!(redis["default_version"], version_id);
        // By id as by name.
        let by_id = setup
            .member
            .get(&format!("datastores/{}", redis["id"].as_str().unwrap()))
            .expect(200);
        assert_eq!(by_id["datastore"]["name"], "redis");
        let versions = setup.member.get("datastores/redis/versions").expect(200);
        assert_eq!(versions["versions"][0]["name"], "7.0");
        assert_eq!(
            setup
                .member
                .get("datastores/redis/versions/7.0")
                .expect(200)["version"]["id"],
            version_id
        );
        assert_eq!(
            setup
                .member
                .get(&format!("datastores/versions/{version_id}"))
                .expect(200)["version"]["name"],
            "7.0"
        );
        let flavors = setup
            .member
            .get("datastores/redis/versions/7.0/flavors")
            .expect(200);
        assert!(!flavors["flavors"].as_array().unwrap().is_empty());
        setup
            .member
            .get("datastores/nothing")
            .error("itemNotFound", 404);
        setup
            .member
            .get("datastores/redis/versions/0.1")
            .error("itemNotFound", 404);
    }
);

on_both!(
    datastore_versions_are_registered_through_the_management_api,
    |setup| {
        let register = json!({"version": {"datastore_name": "kv", "name": "1", "driver": {"name": "hostile", "version_requirement": "^1"},
        "active": true, "default": true, "packages": ["kv-server"]}});
        setup
            .member
            .post("mgmt/datastore-versions", register.clone())
            .error("forbidden", 403);
        // As Trove: 202 and no body (troveclient fails on one).
        let reply = setup
            .admin
            .post("mgmt/datastore-versions", register.clone());
        assert_eq!(reply.status, 202, "{}", reply.body);
        assert_eq!(reply.body, Value::Null);
        let registered_in = |datastore: &str, name: &str| {
            setup.admin.get("mgmt/datastore-versions").expect(200)["versions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["datastore_name"] == datastore && v["name"] == name)
                .cloned()
                .unwrap_or_else(|| panic!("version {name} of {datastore} is not listed"))
        };
        let registered = |name: &str| registered_in("kv2", name);
        let created = registered_in("kv", "1");
        assert_eq!(created["datastore_name"], "kv");
        assert_eq!(created["driver"]["version_requirement"], "^1");
        assert_eq!(created["packages"], "kv-server");
        assert_eq!(created["default"], true);
        // The hostile driver is not loaded: the version says why.
        assert!(
            created["driver_problem"]
                .as_str()
                .unwrap()
                .contains("not loaded"),
            "{created}"
        );
        let message = setup
            .admin
            .post("mgmt/datastore-versions", register)
            .error("badRequest", 400);
        assert_eq!(message, "Datastore Version Already Exists.");
        let id = created["id"].as_str().unwrap().to_string();
        assert!(
            setup.admin.get("mgmt/datastore-versions").expect(200)["versions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["id"] == id)
        );
        // Private, shared with p2 only: p1 no longer sees it, p2 does, admins do.
        let patched = setup
            .admin
            .patch(
                &format!("mgmt/datastore-versions/{id}"),
                json!({"visibility": "private", "add_members": ["p2"]}),
            )
            .expect(202);
        assert_eq!(patched["version"]["members"], json!(["p2"]));
        setup.member.get("datastores/kv").error("itemNotFound", 404);
        let p2 = Client::new(
            &setup.server.base,
            "p2",
            Some(&token(setup.server.state_dir(), "p2", "member")),
        );
        assert_eq!(
            p2.get("datastores/kv").expect(200)["datastore"]["versions"][0]["name"],
            "1"
        );
        // Inactive versions are hidden from members too.
        setup
            .admin
            .patch(
                &format!("mgmt/datastore-versions/{id}"),
                json!({"version": {"active": false}}),
            )
            .expect(202);
        p2.get("datastores/kv").error("itemNotFound", 404);
        // A bad requirement is refused.
        let bad = setup.admin.patch(
            &format!("mgmt/datastore-versions/{id}"),
            json!({"driver": {"name": "x", "version_requirement": "not semver"}}),
        );
        assert!(bad.error("badRequest", 400).contains("version_requirement"));
        setup
            .admin
            .delete(&format!("mgmt/datastore-versions/{id}"))
            .expect(202);
        setup
            .admin
            .get(&format!("mgmt/datastore-versions/{id}"))
            .error("itemNotFound", 404);
        // `"default": false` (what troveclient always sends) leaves a datastore's default
        // where it is, as Trove does; the first version it is given is no default then.
        let version = |name: &str, default: bool| {
            json!({"version": {"datastore_name": "kv2", "name": name, "active": true, "default": default,
                "driver": {"name": "hostile", "version_requirement": "^1"}}})
        };
        setup
            .admin
            .post("mgmt/datastore-versions", version("1", false))
            .expect(202);
        let shown = setup.admin.get("datastores/kv2").expect(200)["datastore"].clone();
        assert!(
            shown.get("default_version").is_none_or(Value::is_null),
            "{shown}"
        );
        setup
            .admin
            .post("mgmt/datastore-versions", version("2", true))
            .expect(202);
        setup
            .admin
            .post("mgmt/datastore-versions", version("3", false))
            .expect(202);
        let default =
            setup.admin.get("datastores/kv2").expect(200)["datastore"]["default_version"].clone();
        assert_eq!(registered("2")["id"], default);
        assert_eq!(registered("3")["default"], false);
    }
);

on_both!(quotas_and_limits, |setup| {
    let quotas = setup.member.get("mgmt/quotas/p1").expect(200);
    let instances = quotas["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["resource"] == "instances")
        .unwrap()
        .clone();
    assert_eq!(instances["limit"], 10);
    assert_eq!(instances["in_use"], 0);
    // Only the own project, and only admins change limits.
    setup.member.get("mgmt/quotas/p2").error("forbidden", 403);
    setup
        .member
        .put("mgmt/quotas/p1", json!({"quotas": {"instances": 20}}))
        .error("forbidden", 403);
    let updated = setup
        .admin
        .put(
            "mgmt/quotas/p1",
            json!({"quotas": {"instances": "3", "volumes": 7}}),
        )
        .expect(200);
    assert_eq!(updated["quotas"]["instances"], 3);
    assert_eq!(updated["quotas"]["volumes"], 7);
    let message = setup
        .admin
        .put("mgmt/quotas/p1", json!({"quotas": {"cpus": 3}}))
        .error("itemNotFound", 404);
    assert!(message.contains("cpus"), "{message}");
    let limits = setup.member.get("limits").expect(200)["limits"].clone();
    assert_eq!(limits[0]["verb"], "ABSOLUTE");
    assert_eq!(limits[0]["max_instances"], 3);
    assert_eq!(limits[0]["max_ram"], -1, "{}", limits[0]);
    let post = limits
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["verb"] == "POST")
        .unwrap();
    assert_eq!(post["value"], 200);
    assert_eq!(post["unit"], "MINUTE");
});

/// Uploads the hostile fixture as an admin and registers a datastore version it serves.
fn hostile_datastore(setup: &Setup) {
    let bytes = std::fs::read(drover_artifacts::HOSTILE).unwrap();
    setup
        .admin
        .send_bytes("POST", "mgmt/drivers", bytes, "application/wasm")
        .expect(201);
    let register = json!({"version": {"datastore_name": "hostile", "name": "1", "driver": {"name": "hostile", "version_requirement": "^1"}}});
    setup
        .admin
        .post("mgmt/datastore-versions", register)
        .expect(202);
}

on_both!(
    drivers_are_uploaded_activated_rolled_back_and_deleted,
    |setup| {
        let v1 = std::fs::read(drover_artifacts::HOSTILE).unwrap();
        let v2 = std::fs::read(drover_artifacts::HOSTILE_V2).unwrap();
        setup
            .member
            .send_bytes("POST", "mgmt/drivers", v1.clone(), "application/wasm")
            .error("forbidden", 403);
        // The first version of a driver becomes active at once.
        let first = setup
            .admin
            .send_bytes("POST", "mgmt/drivers", v1, "application/wasm")
            .expect(201)["driver"]
            .clone();
        assert_eq!(first["active"], true);
        assert_eq!(first["manifest"]["datastore"], "hostile");
        assert_eq!(first["contract_version"], "0.1.0");
        let second = setup
            .admin
            .send_bytes("POST", "mgmt/drivers", v2, "application/wasm")
            .expect(201)["driver"]
            .clone();
        assert_eq!(second["active"], false);
        let digest2 = second["digest"].as_str().unwrap().to_string();
        let activated = setup
            .admin
            .post(&format!("mgmt/drivers/{digest2}/activate"), json!({}))
            .expect(200);
        assert_eq!(activated["driver"]["active"], true);
        let list = setup.admin.get("mgmt/drivers").expect(200);
        let hostile: Vec<&Value> = list["drivers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["name"] == "hostile")
            .collect();
        assert_eq!(hostile.len(), 2);
        // Rolling back makes the first version active again.
        let back = setup
            .admin
            .post("mgmt/drivers/hostile/rollback", json!({}))
            .expect(200);
        assert_eq!(back["driver"]["version"], "1.0.0");
        assert_eq!(
            setup
                .admin
                .get(&format!("mgmt/drivers/{digest2}"))
                .expect(200)["driver"]["previous"],
            true
        );
        // The active version cannot be deleted; the other can.
        let active = back["driver"]["digest"].as_str().unwrap();
        setup
            .admin
            .delete(&format!("mgmt/drivers/{active}"))
            .error("conflict", 409);
        setup
            .admin
            .delete(&format!("mgmt/drivers/{digest2}"))
            .expect(202);
        setup
            .admin
            .get(&format!("mgmt/drivers/{digest2}"))
            .error("itemNotFound", 404);
        // Garbage and components of another contract version are refused, saying why.
        let message = setup
            .admin
            .send_bytes(
                "POST",
                "mgmt/drivers",
                b"not wasm".to_vec(),
                "application/wasm",
            )
            .error("badRequest", 400);
        assert!(
            message.contains("not a valid WebAssembly component"),
            "{message}"
        );
        let next = std::fs::read(drover_artifacts::CONTRACT_NEXT).unwrap();
        let message = setup
            .admin
            .send_bytes("POST", "mgmt/drivers", next, "application/wasm")
            .error("badRequest", 400);
        assert!(
            message.contains("drover:driver@0.2.0") && message.contains("drover:driver@0.1.0"),
            "{message}"
        );
    }
);

on_both!(
    every_error_comes_in_troves_envelope_and_leaves_nothing_behind,
    |setup| {
        hostile_datastore(setup);
        let instance = |extra: Value| {
            let mut body = json!({"instance": {"name": "i", "flavorRef": "1", "volume": {"size": 1}, "datastore": {"type": "hostile", "version": "1"}}});
            if let (Some(target), Some(extra)) =
                (body["instance"].as_object_mut(), extra.as_object())
            {
                for (k, v) in extra {
                    target.insert(k.clone(), v.clone());
                }
            }
            body
        };
        // 400: malformed JSON, and a schema violation naming the field.
        let message = setup
            .member
            .send_bytes(
                "POST",
                "instances",
                b"{not json".to_vec(),
                "application/json",
            )
            .error("badRequest", 400);
        assert!(message.contains("not valid JSON"), "{message}");
        let message = setup
            .member
            .post("instances", instance(json!({"volume": {"size": "big"}})))
            .error("badRequest", 400);
        assert!(message.contains("instance.volume.size"), "{message}");
        let message = setup
            .member
            .post("instances", instance(json!({"volume": null})))
            .error("badRequest", 400);
        assert!(message.contains("volume"), "{message}");
        // 404: unknown ids and routes.
        setup
            .member
            .get("instances/00000000-0000-0000-0000-000000000000")
            .error("itemNotFound", 404);
        setup
            .member
            .post("instances", instance(json!({"flavorRef": "99"})))
            .error("itemNotFound", 404);
        setup
            .member
            .post(
                "instances",
                instance(json!({"datastore": {"type": "hostile", "version": "9"}})),
            )
            // Trove: an unknown version is a 400 (`DatastoreVersionNotFound`).
            .error("badRequest", 400);
        setup.member.get("no/such/route").error("itemNotFound", 404);
        // 405.
        setup
            .member
            .send("PATCH", "flavors", None)
            .error("badMethod", 405);
        // 409: a second flavor with the same id.
        setup
            .admin
            .post(
                "mgmt/flavors",
                json!({"flavor": {"id": "1", "name": "again", "ram": 256, "vcpus": 1}}),
            )
            .error("conflict", 409);
        // 422: a version whose driver is not loaded.
        setup
        .admin
        .post("mgmt/datastore-versions", json!({"version": {"datastore_name": "ghost", "name": "1", "driver": {"name": "ghost", "version_requirement": "*"}}}))
        .expect(202);
        let message = setup
            .member
            .post(
                "instances",
                instance(json!({"datastore": {"type": "ghost", "version": "1"}})),
            )
            .error("unprocessableEntity", 422);
        assert!(
            message.contains("ghost") && message.contains("not loaded"),
            "{message}"
        );
        // 500: a driver that panics answers instanceFault, and the next request works.
        let message = setup
            .member
            .post(
                "instances",
                instance(json!({"users": [{"name": "panic", "password": "x"}]})),
            )
            .error("instanceFault", 500);
        assert!(message.contains("panicked"), "{message}");
        // 501: not offered.
        setup.member.get("clusters").error("notImplemented", 501);
        // 413: over quota, before anything is written.
        setup
            .admin
            .put("mgmt/quotas/p1", json!({"quotas": {"instances": 0}}))
            .expect(200);
        let message = setup
            .member
            .post("instances", instance(json!({})))
            .error("overLimit", 413);
        assert!(message.contains("instances"), "{message}");
        // Nothing was left behind by any of these: no instance, no usage, no reservation.
        assert!(
            setup.member.get("instances").expect(200)["instances"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        let quotas = setup.member.get("mgmt/quotas/p1").expect(200);
        for quota in quotas["quotas"].as_array().unwrap() {
            assert_eq!(
                (quota["in_use"].as_i64(), quota["reserved"].as_i64()),
                (Some(0), Some(0)),
                "{quota}"
            );
        }
    }
);

on_both!(instance_lists_are_paginated_with_next_links, |setup| {
    hostile_datastore(setup);
    // The hostile driver cannot run nodes: its instances fail to build, but they are listed.
    let mut ids = Vec::new();
    for n in 0..5 {
        let body = json!({"instance": {"name": format!("i{n}"), "flavorRef": 1, "volume": {"size": 1}, "datastore": {"type": "hostile"}}});
        ids.push(
            setup.member.post("instances", body).expect(200)["instance"]["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let first = setup.member.get("instances?limit=2").expect(200);
    let page: Vec<&str> = first["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(page, ids[..2]);
    let next = first["links"][0]["href"].as_str().unwrap().to_string();
    assert!(next.contains(&format!("marker={}", ids[1])), "{next}");
    let marker_path = next.split("/v1.0/p1/").nth(1).unwrap();
    let second = setup.member.get(marker_path).expect(200);
    let page: Vec<&str> = second["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(page, ids[2..4]);
    // The last page has no next link.
    let last = setup
        .member
        .get(&format!("instances?limit=2&marker={}", ids[3]))
        .expect(200);
    assert_eq!(last["instances"].as_array().unwrap().len(), 1);
    assert!(
        last.get("links")
            .is_none_or(|l| l.as_array().unwrap().is_empty())
    );
    // include_clustered=False, as the openstack client sends it, is understood.
    assert_eq!(
        setup
            .member
            .get("instances?include_clustered=False")
            .expect(200)["instances"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    setup
        .member
        .get("instances?include_clustered=maybe")
        .error("badRequest", 400);
});

#[test]
fn a_policy_file_overrides_the_default_rules() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, "# site rules\n\"flavor:index\": \"rule:admin\"\n\"instance:index\": \"role:auditor or rule:admin\"\n").unwrap();
    let setup = Setup::start(None, &["--policy-file", policy.to_str().unwrap()]);
    // flavor:index became admin-only.
    let message = setup.member.get("flavors").error("forbidden", 403);
    assert_eq!(
        message,
        "Policy doesn't allow flavor:index to be performed."
    );
    setup.admin.get("flavors").expect(200);
    // instance:index needs the auditor role now, even for the owner.
    setup.member.get("instances").error("forbidden", 403);
    let auditor = Client::new(
        &setup.server.base,
        "p1",
        Some(&token(setup.server.state_dir(), "p1", "auditor")),
    );
    auditor.get("instances").expect(200);
    // Rules the file does not name keep their defaults.
    setup.member.get("datastores").expect(200);
}

/// Sends a POST (`headers` CRLF-separated, then `body`) and reads the answer, which may come
/// before the server has taken the whole body: its status and JSON body.
fn answer_to_post(server: &Server, path: &str, headers: &str, body: Vec<u8>) -> (u16, Value) {
    use std::io::{Read, Write};
    let address = server.base.trim_start_matches("http://");
    let mut stream = raw_connection(server);
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n{headers}\r\n\r\n"
    )
    .unwrap();
    // The body from another thread: the server may answer and close before taking all of it.
    let mut writer = stream.try_clone().unwrap();
    let sending = std::thread::spawn(move || {
        let _ = writer.write_all(&body);
    });
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let _ = sending.join();
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    // The JSON, whether the body came whole or in chunks.
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| Some(&body[body.find('{')?..=body.rfind('}')?]))
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

#[test]
fn oversized_bodies_are_413_in_troves_envelope_and_authentication_comes_first() {
    let setup = Setup::start(None, &[]);
    // A JSON body past the API's limit (10 MiB).
    let member = token(setup.server.state_dir(), "p1", "member");
    let (status, body) = answer_to_post(
        &setup.server,
        "/v1.0/p1/instances",
        &format!(
            "X-Auth-Token: {member}\r\nContent-Type: application/json\r\nContent-Length: {}",
            10 << 20
        ),
        vec![b' '; 10 << 20],
    );
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["overLimit"]["code"], 413, "{body}");
    // A driver component past its own (larger) limit.
    let admin = admin_token(setup.server.state_dir());
    let (status, body) = answer_to_post(
        &setup.server,
        "/v1.0/p1/mgmt/drivers",
        &format!(
            "X-Auth-Token: {admin}\r\nContent-Type: application/wasm\r\nContent-Length: {}",
            (64 << 20) + 1
        ),
        vec![0; (64 << 20) + 1],
    );
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["overLimit"]["code"], 413, "{body}");
    // Without a token, the body is never read: 401 at once, whatever size it announces.
    let (status, body) = answer_to_post(
        &setup.server,
        "/v1.0/p1/mgmt/drivers",
        &format!(
            "Content-Type: application/wasm\r\nContent-Length: {}",
            1u64 << 30
        ),
        Vec::new(),
    );
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        setup.member.get("instances").expect(200)["instances"],
        json!([])
    );
}

#[test]
fn noauth_takes_only_json_bodies_and_warns_that_it_is_for_development() {
    let server = Server::start(Options {
        args: vec!["--auth".into(), "noauth".into()],
        ..Default::default()
    });
    assert!(
        server.log_text().contains("noauth mode is for development"),
        "{}",
        server.log_text()
    );
    let client = Client::new(&server.base, "p1", None);
    let body = json!({"instance": {"name": "from-a-page", "flavorRef": 2, "volume": {"size": 1},
        "datastore": {"type": "redis", "version": "7.0"}}})
    .to_string();
    // What a web page can send without a preflight: a form, plain text.
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let reply = client.send_bytes("POST", "instances", body.clone().into_bytes(), content_type);
        assert_eq!(reply.status, 415, "{content_type}: {}", reply.body);
        assert_eq!(reply.body["badMediaType"]["code"], 415, "{}", reply.body);
    }
    assert_eq!(client.get("instances").expect(200)["instances"], json!([]));
    // JSON is taken, with or without a charset.
    let reply = client.send_bytes(
        "POST",
        "configurations",
        json!({"configuration": {"name": "g", "values": {"maxmemory-policy": "allkeys-lru"},
            "datastore": {"type": "redis", "version": "7.0"}}})
        .to_string()
        .into_bytes(),
        "application/json; charset=utf-8",
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn every_verb_is_rate_limited_patch_as_put() {
    // Trove's limits name four verbs; PATCH counts against PUT's.
    let server = Server::start(Options {
        config: "[[rate_limits]]\nverb = \"PUT\"\nuri = \"*\"\nregex = \".*\"\nvalue = 3\nunit = \"MINUTE\"\n"
            .into(),
        ..Default::default()
    });
    let client = Client::new(
        &server.base,
        "p1",
        Some(&token(server.state_dir(), "p1", "member")),
    );
    let group = client
        .post(
            "configurations",
            json!({"configuration": {"name": "g", "values": {"maxmemory-policy": "allkeys-lru"},
                "datastore": {"type": "redis", "version": "7.0"}}}),
        )
        .expect(200)["configuration"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let values = json!({"configuration": {"values": {"maxmemory-policy": "allkeys-lfu"}}});
    client
        .patch(&format!("configurations/{group}"), values.clone())
        .expect(200);
    client
        .put(&format!("configurations/{group}"), values.clone())
        .expect(202);
    client
        .patch(&format!("configurations/{group}"), values.clone())
        .expect(200);
    let reply = client.patch(&format!("configurations/{group}"), values);
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert!(
        reply.body["overLimit"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("rate-limited"))
    );
    assert!(
        reply.headers.contains_key("retry-after"),
        "{:?}",
        reply.headers
    );
}

#[test]
fn names_are_counted_in_characters_and_unbuilt_routes_authenticate_first() {
    let setup = Setup::start(None, &[]);
    let group = |name: String| {
        setup.member.post(
            "configurations",
            json!({"configuration": {"name": name, "values": {},
                "datastore": {"type": "redis", "version": "7.0"}}}),
        )
    };
    // 255 two-byte characters are 510 bytes and a valid name; 256 are one too many.
    let created = group("é".repeat(255)).expect(200);
    assert_eq!(
        created["configuration"]["name"]
            .as_str()
            .map(|n| n.chars().count()),
        Some(255)
    );
    let message = group("é".repeat(256)).error("badRequest", 400);
    assert!(message.contains("255 characters"), "{message}");

    // Backups and clusters are not built yet: 501, but only for a caller with a token.
    let anonymous = Client::new(&setup.server.base, "p1", None);
    for path in ["backups", "clusters", "backups/some-id"] {
        anonymous.get(path).error("unauthorized", 401);
        setup.member.get(path).error("notImplemented", 501);
    }
}

#[test]
fn links_start_with_the_configured_public_url_whatever_the_host_header() {
    let server = Server::start(Options {
        config: "public_url = \"https://db.example.test:8779/\"\n".into(),
        ..Default::default()
    });
    let admin = admin_token(server.state_dir());
    let http = reqwest::blocking::Client::new();
    for host in [None, Some("attacker.example")] {
        let get = |path: &str| -> Value {
            let mut request = http
                .get(format!("{}{path}", server.base))
                .header("X-Auth-Token", &admin);
            if let Some(host) = host {
                request = request.header("Host", host);
            }
            request.send().unwrap().json().unwrap()
        };
        let version = get("/v1.0");
        let href = version["version"]["links"][0]["href"].as_str().unwrap();
        assert_eq!(href, "https://db.example.test:8779/v1.0/", "{version}");
        let flavors = get("/v1.0/admin/flavors");
        for link in flavors["flavors"][0]["links"].as_array().unwrap() {
            let href = link["href"].as_str().unwrap();
            assert!(
                href.starts_with("https://db.example.test:8779/"),
                "Host {host:?}: {href}"
            );
        }
    }
}

/// A raw connection to `server`, reads giving up after 30 s.
fn raw_connection(server: &Server) -> std::net::TcpStream {
    let stream = std::net::TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    stream
}

#[test]
fn half_sent_requests_and_idle_connections_are_closed() {
    use std::io::{Read, Write};
    let server = Server::start(Options {
        config: "[http]\nheader_timeout_s = 2\n".into(),
        ..Default::default()
    });
    // Whether the server ends the connection (rather than the test's 30 s giving up).
    let closed_by_server = |stream: &mut std::net::TcpStream| {
        let mut rest = Vec::new();
        match stream.read_to_end(&mut rest) {
            Ok(_) => true,
            Err(error) => error.kind() == std::io::ErrorKind::ConnectionReset,
        }
    };
    let mut half = raw_connection(&server);
    half.write_all(b"GET /v1.0 HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut idle = raw_connection(&server);
    // Kept alive after a request, then idle.
    let mut kept = raw_connection(&server);
    kept.write_all(b"GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 12];
    kept.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    assert!(
        closed_by_server(&mut half),
        "a half-sent request head was kept open"
    );
    assert!(
        closed_by_server(&mut idle),
        "a connection that sent nothing was kept open"
    );
    assert!(
        closed_by_server(&mut kept),
        "an idle kept-alive connection was kept open"
    );
}

#[test]
fn connections_beyond_the_cap_are_told_the_server_is_busy() {
    use std::io::{Read, Write};
    let server = Server::start(Options {
        config: "[http]\nmax_connections = 3\n".into(),
        ..Default::default()
    });
    let held: Vec<_> = (0..3).map(|_| raw_connection(&server)).collect();
    let ask = || {
        let mut stream = raw_connection(&server);
        stream
            .write_all(b"GET /healthcheck HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    };
    // The three held connections are accepted before this one (in order), so it is over.
    let answer = ask();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    assert!(answer.contains("\"serviceUnavailable\""), "{answer:?}");
    // A slot given back is used again.
    drop(held);
    let started = std::time::Instant::now();
    loop {
        let answer = ask();
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "no slot came back: {answer:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_rejected_request_leaves_its_kept_alive_connection_usable() {
    use std::io::{BufRead, BufReader, Read, Write};
    let setup = Setup::start(None, &[]);
    let member = token(setup.server.state_dir(), "p1", "member");
    let mut stream = raw_connection(&setup.server);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    // Reads one response: its status, and whether it says the connection closes.
    let mut answer = || {
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        let (mut length, mut close) = (0, false);
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end().to_ascii_lowercase();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
            close |= line == "connection: close";
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        (status.split_whitespace().nth(1).unwrap().to_string(), close)
    };
    let body = r#"{"cluster": {"name": "c1"}}"#;
    // Refused without reading the body: a 501, a missing route, a missing token.
    for (path, auth) in [
        ("/v1.0/p1/clusters", format!("X-Auth-Token: {member}\r\n")),
        (
            "/v1.0/p1/no-such-thing",
            format!("X-Auth-Token: {member}\r\n"),
        ),
        ("/v1.0/p1/clusters", String::new()),
    ] {
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let (status, close) = answer();
        assert!(["501", "404", "401"].contains(&status.as_str()), "{status}");
        assert!(!close, "{path}: the connection is closed after {status}");
    }
    // The next request on the same connection is answered.
    write!(
        stream,
        "GET /v1.0/p1/instances HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {member}\r\n\r\n"
    )
    .unwrap();
    assert_eq!(answer().0, "200");
}

#[test]
fn an_instance_list_shows_a_change_at_once_though_pages_are_kept() {
    crate::nodes::require_binary("redis-server", "redis-server");
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let id = crate::common::nodes::create_instance(client, "kept", "redis", "7.0", json!({}));
    crate::common::nodes::wait_status(
        server,
        client,
        &id,
        "ACTIVE",
        std::time::Duration::from_secs(120),
    );
    let names = |client: &crate::common::api::Client| -> Vec<String> {
        client.get("instances").expect(200)["instances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect()
    };
    // The same page twice (the second is the kept one), then a rename: the next list, sent
    // at once, shows the new name.
    assert_eq!(names(client), ["kept"]);
    assert_eq!(names(client), ["kept"]);
    for name in ["renamed", "renamed-again"] {
        client
            .put(
                &format!("instances/{id}"),
                json!({"instance": {"name": name}}),
            )
            .expect(202);
        assert_eq!(names(client), [name]);
    }
    // An admin's page (with fault details) is not a member's.
    let admin = &setup.admin;
    assert_eq!(names(admin), ["renamed-again"]);
    // A deleted instance leaves the list.
    client.delete(&format!("instances/{id}")).expect(202);
    crate::common::nodes::wait_gone(server, client, &id, std::time::Duration::from_secs(60));
    assert!(names(client).is_empty());
}
