//! The tasks an instance went through, as a user sees them (a Drover extension): the running
//! task in the instance's view, and `GET instances/{id}/tasks`, newest first.

use std::time::Duration;

use serde_json::{Value, json};

use crate::api::Setup;
use crate::common::api::Client;
use crate::common::nodes::{app_user, create_instance, wait_status, wait_until};
use crate::nodes::require_binary;

const BUILD: Duration = Duration::from_secs(180);
const CREATE_STEPS: &[&str] = &["create_node", "initialize", "start", "prepare"];

fn tasks(client: &Client, id: &str) -> Vec<Value> {
    client.get(&format!("instances/{id}/tasks")).expect(200)["tasks"]
        .as_array()
        .unwrap_or_else(|| panic!("no task list for {id}"))
        .clone()
}

#[test]
fn an_instance_shows_the_task_building_it_and_lists_its_tasks_with_their_steps() {
    require_binary("postgres", "postgresql-15");
    require_binary("psql", "postgresql-client-15");
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let id = create_instance(
        client,
        "tasked",
        "postgresql",
        "15",
        app_user("postgresql", "app-secret"),
    );

    // While it is built, its view names the task, its step and how far it is.
    let mut running = None;
    let mut listed = None;
    wait_until(
        BUILD,
        || {
            let shown = client.get(&format!("instances/{id}")).expect(200)["instance"].clone();
            if let Some(task) = shown.get("task") {
                running = Some(task.clone());
                listed = tasks(client, &id).first().cloned();
                return true;
            }
            shown["status"] == "ACTIVE"
        },
        "the instance shows the task building it, or is ACTIVE",
    );
    let running = running
        .expect("the PostgreSQL instance became ACTIVE without its view ever showing a task");
    assert_eq!(running["kind"], "create_instance", "{running}");
    assert_eq!(running["steps"], 4, "{running}");
    let step = running["step"].as_str().unwrap_or_default();
    let number = CREATE_STEPS
        .iter()
        .position(|s| *s == step)
        .unwrap_or_else(|| panic!("the running task is at no step of a create: {running}"));
    assert_eq!(running["step_number"], number + 1, "{running}");
    assert!(
        running["progress"].is_null() || running["progress"]["done"].is_number(),
        "{running}"
    );
    let listed = listed.expect("the task list was empty while the task ran");
    assert_eq!(listed["id"], running["id"], "{listed}");
    assert!(
        ["pending", "running", "waiting", "done"].contains(&listed["state"].as_str().unwrap_or("")),
        "{listed}"
    );

    // Once ACTIVE the view carries no task, and the list shows the create done.
    let shown = wait_status(server, client, &id, "ACTIVE", BUILD);
    assert!(shown.get("task").is_none(), "{shown}");
    let all = tasks(client, &id);
    assert_eq!(all.len(), 1, "{all:?}");
    let create = &all[0];
    assert_eq!(create["id"], running["id"], "{create}");
    assert_eq!(create["kind"], "create_instance", "{create}");
    assert_eq!(create["state"], "done", "{create}");
    assert_eq!(create["steps"], 4, "{create}");
    assert!(create["step"].is_null(), "{create}");
    assert!(create["parent_id"].is_null(), "{create}");
    assert!(create["error"].is_null(), "{create}");
    assert_eq!(create["host"], shown["host"], "{create}");
    for time in ["created", "updated"] {
        assert!(
            create[time].as_str().is_some_and(|t| t.contains('T')),
            "{time}: {create}"
        );
    }

    // A restart is listed first, done in its three steps.
    client
        .post(&format!("instances/{id}/action"), json!({"restart": {}}))
        .expect(202);
    wait_until(
        BUILD,
        || {
            let all = tasks(client, &id);
            all.len() == 2 && all[0]["kind"] == "restart_instance" && all[0]["state"] == "done"
        },
        "the restart is listed first, done",
    );
    let all = tasks(client, &id);
    assert_eq!(all[0]["steps"], 3, "{:?}", all[0]);
    assert_eq!(all[1]["id"], create["id"], "{all:?}");

    // Unknown instances have no tasks; the list is in the OpenAPI document.
    client
        .get("instances/no-such-instance/tasks")
        .error("itemNotFound", 404);
    let openapi = client.get("/openapi.json").expect(200);
    assert!(
        openapi["paths"]
            .as_object()
            .unwrap()
            .keys()
            .any(|path| path.starts_with("/v1.0/{project_id}/instances/")
                && path.ends_with("/tasks")),
        "the tasks list is not in the OpenAPI document"
    );
}
