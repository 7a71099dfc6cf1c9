//! The OpenAPI 3.1 document of the REST API, generated from the wire types: one annotated
//! stub per route (the HTTP layer carries no documentation). `@generated`-free: edit the
//! table in this file's history, or add a stub by hand following the others.
#![allow(dead_code)]

use utoipa::OpenApi;

use crate::accounts::*;
use crate::backups::*;
use crate::clusters::*;
use crate::configurations::*;
use crate::datastores::*;
use crate::drivers::*;
use crate::error::ErrorEnvelope;
use crate::flavors::*;
use crate::instances::*;
use crate::mgmt::*;
use crate::quotas::*;
use crate::versions::*;

#[utoipa::path(
    get,
    path = "/",
    tag = "versions",
    description = "The API versions",
    responses((status = 200, description = "Success", body = VersionsResponse), (status = 500, description = "Instance fault", body = ErrorEnvelope))
)]
fn versions_index() {}

#[utoipa::path(
    get,
    path = "/v1.0",
    tag = "versions",
    description = "This API version (openstacksdk's discovery)",
    responses((status = 200, description = "Success", body = VersionResponse), (status = 500, description = "Instance fault", body = ErrorEnvelope))
)]
fn version_show() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/flavors",
    tag = "flavors",
    description = "Flavors",
    params(("project_id" = String, Path, description = "The project")),
    responses((status = 200, description = "Success", body = FlavorsResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn flavors_list() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/flavors/{flavor_id}",
    tag = "flavors",
    description = "A flavor",
    params(("project_id" = String, Path, description = "The project"), ("flavor_id" = String, Path)),
    responses((status = 200, description = "Success", body = FlavorResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn flavors_show() {}

#[utoipa::path(
    post,
    path = "/v1.0/{project_id}/mgmt/flavors",
    tag = "mgmt",
    description = "Define a flavor (admin)",
    params(("project_id" = String, Path, description = "The project")),
    request_body = CreateFlavorRequest,
    responses((status = 200, description = "Success", body = FlavorResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn flavors_create() {}

#[utoipa::path(
    delete,
    path = "/v1.0/{project_id}/mgmt/flavors/{flavor_id}",
    tag = "mgmt",
    description = "Delete an unused flavor (admin)",
    params(("project_id" = String, Path, description = "The project"), ("flavor_id" = String, Path)),
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn flavors_delete() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/datastores",
    tag = "datastores",
    description = "Datastores and the versions the caller may use",
    params(("project_id" = String, Path, description = "The project")),
    responses((status = 200, description = "Success", body = DatastoresResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn datastores_list() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/datastores/{datastore}",
    tag = "datastores",
    description = "A datastore (by id or name)",
    params(("project_id" = String, Path, description = "The project"), ("datastore" = String, Path)),
    responses((status = 200, description = "Success", body = DatastoreResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn datastores_show() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/datastores/{datastore}/versions",
    tag = "datastores",
    description = "A datastore's versions",
    params(("project_id" = String, Path, description = "The project"), ("datastore" = String, Path)),
    responses((status = 200, description = "Success", body = DatastoreVersionsResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn datastore_versions_list() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/datastores/{datastore}/versions/{version}",
    tag = "datastores",
    description = "A datastore version (by id or name)",
    params(("project_id" = String, Path, description = "The project"), ("datastore" = String, Path), ("version" = String, Path)),
    responses((status = 200, description = "Success", body = DatastoreVersionResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn datastore_versions_show() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/datastores/versions/{version_id}",
    tag = "datastores",
    description = "A datastore version by id",
    params(("project_id" = String, Path, description = "The project"), ("version_id" = String, Path)),
    responses((status = 200, description = "Success", body = DatastoreVersionResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn datastore_versions_show_by_id() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/datastores/{datastore}/versions/{version}/flavors",
    tag = "datastores",
    description = "The flavors a datastore version may run on",
    params(("project_id" = String, Path, description = "The project"), ("datastore" = String, Path), ("version" = String, Path)),
    responses((status = 200, description = "Success", body = FlavorsResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn datastore_version_flavors() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/datastores/{datastore}/versions/{version}/parameters",
    tag = "configurations",
    description = "A datastore version's parameter catalog",
    params(("project_id" = String, Path, description = "The project"), ("datastore" = String, Path), ("version" = String, Path)),
    responses((status = 200, description = "Success", body = ParametersResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn parameters_list() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/datastores/{datastore}/versions/{version}/parameters/{name}",
    tag = "configurations",
    description = "One parameter (not wrapped, as in Trove)",
    params(("project_id" = String, Path, description = "The project"), ("datastore" = String, Path), ("version" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "Success", body = ParameterView), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn parameters_show() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/datastores/versions/{version_id}/parameters",
    tag = "configurations",
    description = "A datastore version's parameter catalog, by version id",
    params(("project_id" = String, Path, description = "The project"), ("version_id" = String, Path)),
    responses((status = 200, description = "Success", body = ParametersResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn parameters_list_by_version() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/mgmt/datastores/versions/{version_id}/parameters",
    tag = "configurations",
    description = "Administrators: a datastore version's parameter catalog with the parameters the service controls and why",
    params(("project_id" = String, Path, description = "The project"), ("version_id" = String, Path)),
    responses((status = 200, description = "Success", body = MgmtParametersResponse), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope))
)]
fn mgmt_parameters_list() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/datastores/versions/{version_id}/parameters/{name}",
    tag = "configurations",
    description = "One parameter, by version id",
    params(("project_id" = String, Path, description = "The project"), ("version_id" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "Success", body = ParameterView), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn parameters_show_by_version() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/mgmt/datastore-versions",
    tag = "mgmt",
    description = "Registered datastore versions (admin)",
    params(("project_id" = String, Path, description = "The project")),
    responses((status = 200, description = "Success", body = MgmtDatastoreVersionsResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn mgmt_versions_list() {}

#[utoipa::path(
    post,
    path = "/v1.0/{project_id}/mgmt/datastore-versions",
    tag = "mgmt",
    description = "Register a datastore version and its driver (admin)",
    params(("project_id" = String, Path, description = "The project")),
    request_body = CreateDatastoreVersionRequest,
    responses((status = 202, description = "Success", body = MgmtDatastoreVersionResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn mgmt_versions_create() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/mgmt/datastore-versions/{version_id}",
    tag = "mgmt",
    description = "A registered datastore version (admin)",
    params(("project_id" = String, Path, description = "The project"), ("version_id" = String, Path)),
    responses((status = 200, description = "Success", body = MgmtDatastoreVersionResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn mgmt_versions_show() {}

#[utoipa::path(
    patch,
    path = "/v1.0/{project_id}/mgmt/datastore-versions/{version_id}",
    tag = "mgmt",
    description = "Change a datastore version (admin)",
    params(("project_id" = String, Path, description = "The project"), ("version_id" = String, Path)),
    request_body = DatastoreVersionPatch,
    responses((status = 202, description = "Success", body = MgmtDatastoreVersionResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn mgmt_versions_patch() {}

#[utoipa::path(
    delete,
    path = "/v1.0/{project_id}/mgmt/datastore-versions/{version_id}",
    tag = "mgmt",
    description = "Delete a datastore version no instance uses (admin)",
    params(("project_id" = String, Path, description = "The project"), ("version_id" = String, Path)),
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn mgmt_versions_delete() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/mgmt/drivers",
    tag = "drivers",
    description = "Stored driver versions (admin)",
    params(("project_id" = String, Path, description = "The project")),
    responses((status = 200, description = "Success", body = DriversResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn drivers_list() {}

#[utoipa::path(
    post,
    path = "/v1.0/{project_id}/mgmt/drivers",
    tag = "drivers",
    description = "Upload a driver component (the body; ?activate=true to activate it) (admin)",
    params(("project_id" = String, Path, description = "The project")),
    request_body(content = Vec<u8>, content_type = "application/wasm"),
    responses((status = 201, description = "Success", body = DriverResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn drivers_upload() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/mgmt/drivers/{digest}",
    tag = "drivers",
    description = "A driver version (admin)",
    params(("project_id" = String, Path, description = "The project"), ("digest" = String, Path)),
    responses((status = 200, description = "Success", body = DriverResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn drivers_show() {}

#[utoipa::path(
    post,
    path = "/v1.0/{project_id}/mgmt/drivers/{digest}/activate",
    tag = "drivers",
    description = "Make a driver version active (admin)",
    params(("project_id" = String, Path, description = "The project"), ("digest" = String, Path)),
    responses((status = 200, description = "Success", body = DriverResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn drivers_activate() {}

#[utoipa::path(
    post,
    path = "/v1.0/{project_id}/mgmt/drivers/{name}/rollback",
    tag = "drivers",
    description = "Return a driver to its previous version (admin)",
    params(("project_id" = String, Path, description = "The project"), ("name" = String, Path)),
    responses((status = 200, description = "Success", body = DriverResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn drivers_rollback() {}

#[utoipa::path(
    delete,
    path = "/v1.0/{project_id}/mgmt/drivers/{digest}",
    tag = "drivers",
    description = "Delete a driver version that is not in use (admin)",
    params(("project_id" = String, Path, description = "The project"), ("digest" = String, Path)),
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn drivers_delete() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/mgmt/quotas/{target_project}",
    tag = "quotas",
    description = "A project's quotas and usage (own project, or admin)",
    params(("project_id" = String, Path, description = "The project"), ("target_project" = String, Path)),
    responses((status = 200, description = "Success", body = QuotasResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn quotas_show() {}

#[utoipa::path(
    put,
    path = "/v1.0/{project_id}/mgmt/quotas/{target_project}",
    tag = "quotas",
    description = "Change a project's quotas (admin)",
    params(("project_id" = String, Path, description = "The project"), ("target_project" = String, Path)),
    request_body = UpdateQuotasRequest,
    responses((status = 200, description = "Success", body = UpdateQuotasResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn quotas_update() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/limits",
    tag = "quotas",
    description = "Absolute limits with usage, and rate limits",
    params(("project_id" = String, Path, description = "The project")),
    responses((status = 200, description = "Success", body = LimitsResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn limits_list() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/instances",
    tag = "instances",
    description = "Instances (?include_clustered, ?include_replicas, ?limit, ?marker)",
    params(("project_id" = String, Path, description = "The project")),
    responses((status = 200, description = "Success", body = InstancesResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn instances_list() {}

#[utoipa::path(
    post,
    path = "/v1.0/{project_id}/instances",
    tag = "instances",
    description = "Create an instance or replicas; it starts in BUILD",
    params(("project_id" = String, Path, description = "The project")),
    request_body = CreateInstanceRequest,
    responses((status = 200, description = "Success", body = InstanceResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn instances_create() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/instances/{instance_id}",
    tag = "instances",
    description = "An instance",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path)),
    responses((status = 200, description = "Success", body = InstanceResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn instances_show() {}

#[utoipa::path(
    put,
    path = "/v1.0/{project_id}/instances/{instance_id}",
    tag = "instances",
    description = "Rename, attach or detach a configuration group, detach a replica",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path)),
    request_body = UpdateInstanceRequest,
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn instances_update() {}

#[utoipa::path(
    patch,
    path = "/v1.0/{project_id}/instances/{instance_id}",
    tag = "instances",
    description = "The same as PUT, keys left out unchanged",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path)),
    request_body = UpdateInstanceRequest,
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn instances_edit() {}

#[utoipa::path(
    delete,
    path = "/v1.0/{project_id}/instances/{instance_id}",
    tag = "instances",
    description = "Delete an instance",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path)),
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn instances_delete() {}

#[utoipa::path(
    post,
    path = "/v1.0/{project_id}/instances/{instance_id}/action",
    tag = "instances",
    description = "restart, resize, promote_to_replica_source, eject_replica_source, reset_status",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path)),
    request_body = InstanceAction,
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn instances_action() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/instances/{instance_id}/replicas",
    tag = "instances",
    description = "A source's replicas",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path)),
    responses((status = 200, description = "Success", body = InstancesResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn instances_replicas() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/instances/{instance_id}/tasks",
    tag = "instances",
    description = "A Drover extension: an instance's recent tasks (newest first, at most 20), each with its workflow, state, step n of m, progress, host and outcome",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path)),
    responses((status = 200, description = "Success", body = crate::instances::TasksResponse), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope))
)]
fn instances_tasks() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/mgmt/hosts",
    tag = "instances",
    description = "A Drover extension (admin): the hosts sharing the store, each with its id, name, backend, state (up or down, from its heartbeat), last heartbeat, start and the number of live instances placed on it: {\"hosts\": [...]}",
    params(("project_id" = String, Path, description = "The project")),
    responses((status = 200, description = "Success"), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope))
)]
fn mgmt_hosts() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/instances/{instance_id}/configuration",
    tag = "instances",
    description = "The configuration the instance runs with",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path)),
    responses((status = 200, description = "Success", body = InstanceConfigurationResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn instances_configuration() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/instances/{instance_id}/databases",
    tag = "accounts",
    description = "Databases",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path)),
    responses((status = 200, description = "Success", body = DatabasesResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn databases_list() {}

#[utoipa::path(
    post,
    path = "/v1.0/{project_id}/instances/{instance_id}/databases",
    tag = "accounts",
    description = "Create databases",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path)),
    request_body = CreateDatabasesRequest,
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn databases_create() {}

#[utoipa::path(
    delete,
    path = "/v1.0/{project_id}/instances/{instance_id}/databases/{database}",
    tag = "accounts",
    description = "Delete a database",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path), ("database" = String, Path)),
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn databases_delete() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/instances/{instance_id}/users",
    tag = "accounts",
    description = "Users",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path)),
    responses((status = 200, description = "Success", body = UsersResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn users_list() {}

#[utoipa::path(
    post,
    path = "/v1.0/{project_id}/instances/{instance_id}/users",
    tag = "accounts",
    description = "Create users",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path)),
    request_body = UsersRequest,
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn users_create() {}

#[utoipa::path(
    put,
    path = "/v1.0/{project_id}/instances/{instance_id}/users",
    tag = "accounts",
    description = "Change users' passwords",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path)),
    request_body = UsersRequest,
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn users_change_passwords() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/instances/{instance_id}/users/{user}",
    tag = "accounts",
    description = "A user (name or name@host)",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path), ("user" = String, Path)),
    responses((status = 200, description = "Success", body = UserResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn users_show() {}

#[utoipa::path(
    put,
    path = "/v1.0/{project_id}/instances/{instance_id}/users/{user}",
    tag = "accounts",
    description = "Rename a user, change its host or password",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path), ("user" = String, Path)),
    request_body = UpdateUserRequest,
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn users_update() {}

#[utoipa::path(
    delete,
    path = "/v1.0/{project_id}/instances/{instance_id}/users/{user}",
    tag = "accounts",
    description = "Delete a user",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path), ("user" = String, Path)),
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn users_delete() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/instances/{instance_id}/users/{user}/databases",
    tag = "accounts",
    description = "The databases a user may use",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path), ("user" = String, Path)),
    responses((status = 200, description = "Success", body = DatabasesResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn access_list() {}

#[utoipa::path(
    put,
    path = "/v1.0/{project_id}/instances/{instance_id}/users/{user}/databases",
    tag = "accounts",
    description = "Give a user access to databases",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path), ("user" = String, Path)),
    request_body = GrantAccessRequest,
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn access_grant() {}

#[utoipa::path(
    delete,
    path = "/v1.0/{project_id}/instances/{instance_id}/users/{user}/databases/{database}",
    tag = "accounts",
    description = "Take a user's access to a database away",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path), ("user" = String, Path), ("database" = String, Path)),
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn access_revoke() {}

#[utoipa::path(
    post,
    path = "/v1.0/{project_id}/instances/{instance_id}/root",
    tag = "accounts",
    description = "Enable the superuser",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path)),
    request_body = EnableRootRequest,
    responses((status = 200, description = "Success", body = RootResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn root_enable() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/instances/{instance_id}/root",
    tag = "accounts",
    description = "Whether the superuser was ever enabled",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path)),
    responses((status = 200, description = "Success", body = RootEnabledResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn root_show() {}

#[utoipa::path(
    delete,
    path = "/v1.0/{project_id}/instances/{instance_id}/root",
    tag = "accounts",
    description = "Disable the superuser",
    params(("project_id" = String, Path, description = "The project"), ("instance_id" = String, Path)),
    responses((status = 204, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn root_disable() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/configurations",
    tag = "configurations",
    description = "Configuration groups",
    params(("project_id" = String, Path, description = "The project")),
    responses((status = 200, description = "Success", body = ConfigurationsResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn configurations_list() {}

#[utoipa::path(
    post,
    path = "/v1.0/{project_id}/configurations",
    tag = "configurations",
    description = "Create a configuration group",
    params(("project_id" = String, Path, description = "The project")),
    request_body = ConfigurationRequest,
    responses((status = 200, description = "Success", body = ConfigurationResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn configurations_create() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/configurations/{configuration_id}",
    tag = "configurations",
    description = "A configuration group",
    params(("project_id" = String, Path, description = "The project"), ("configuration_id" = String, Path)),
    responses((status = 200, description = "Success", body = ConfigurationResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn configurations_show() {}

#[utoipa::path(
    put,
    path = "/v1.0/{project_id}/configurations/{configuration_id}",
    tag = "configurations",
    description = "Replace a group's values",
    params(("project_id" = String, Path, description = "The project"), ("configuration_id" = String, Path)),
    request_body = ConfigurationRequest,
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn configurations_update() {}

#[utoipa::path(
    patch,
    path = "/v1.0/{project_id}/configurations/{configuration_id}",
    tag = "configurations",
    description = "Merge values into a group",
    params(("project_id" = String, Path, description = "The project"), ("configuration_id" = String, Path)),
    request_body = ConfigurationRequest,
    responses((status = 200, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn configurations_edit() {}

#[utoipa::path(
    delete,
    path = "/v1.0/{project_id}/configurations/{configuration_id}",
    tag = "configurations",
    description = "Delete a group no instance uses",
    params(("project_id" = String, Path, description = "The project"), ("configuration_id" = String, Path)),
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn configurations_delete() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/configurations/{configuration_id}/instances",
    tag = "configurations",
    description = "The instances a group is attached to",
    params(("project_id" = String, Path, description = "The project"), ("configuration_id" = String, Path)),
    responses((status = 200, description = "Success", body = ConfigurationInstancesResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn configurations_instances() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/clusters",
    tag = "clusters",
    description = "Clusters",
    params(("project_id" = String, Path, description = "The project")),
    responses((status = 200, description = "Success", body = ClustersResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn clusters_list() {}

#[utoipa::path(
    post,
    path = "/v1.0/{project_id}/clusters",
    tag = "clusters",
    description = "Create a cluster",
    params(("project_id" = String, Path, description = "The project")),
    request_body = CreateClusterRequest,
    responses((status = 200, description = "Success", body = ClusterResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn clusters_create() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/clusters/{cluster_id}",
    tag = "clusters",
    description = "A cluster",
    params(("project_id" = String, Path, description = "The project"), ("cluster_id" = String, Path)),
    responses((status = 200, description = "Success", body = ClusterResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn clusters_show() {}

#[utoipa::path(
    post,
    path = "/v1.0/{project_id}/clusters/{cluster_id}",
    tag = "clusters",
    description = "grow, shrink, reset-status, upgrade",
    params(("project_id" = String, Path, description = "The project"), ("cluster_id" = String, Path)),
    request_body = ClusterAction,
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn clusters_action() {}

#[utoipa::path(
    delete,
    path = "/v1.0/{project_id}/clusters/{cluster_id}",
    tag = "clusters",
    description = "Delete a cluster",
    params(("project_id" = String, Path, description = "The project"), ("cluster_id" = String, Path)),
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn clusters_delete() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/backups",
    tag = "backups",
    description = "Backups",
    params(("project_id" = String, Path, description = "The project")),
    responses((status = 200, description = "Success", body = BackupsResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn backups_list() {}

#[utoipa::path(
    post,
    path = "/v1.0/{project_id}/backups",
    tag = "backups",
    description = "Take a backup",
    params(("project_id" = String, Path, description = "The project")),
    request_body = CreateBackupRequest,
    responses((status = 202, description = "Success", body = BackupResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn backups_create() {}

#[utoipa::path(
    get,
    path = "/v1.0/{project_id}/backups/{backup_id}",
    tag = "backups",
    description = "A backup",
    params(("project_id" = String, Path, description = "The project"), ("backup_id" = String, Path)),
    responses((status = 200, description = "Success", body = BackupResponse), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn backups_show() {}

#[utoipa::path(
    delete,
    path = "/v1.0/{project_id}/backups/{backup_id}",
    tag = "backups",
    description = "Delete a backup",
    params(("project_id" = String, Path, description = "The project"), ("backup_id" = String, Path)),
    responses((status = 202, description = "Accepted"), (status = 400, description = "Bad request", body = ErrorEnvelope), (status = 401, description = "Unauthorized", body = ErrorEnvelope), (status = 403, description = "Forbidden", body = ErrorEnvelope), (status = 404, description = "Not found", body = ErrorEnvelope), (status = 409, description = "Conflict", body = ErrorEnvelope), (status = 413, description = "Over limit", body = ErrorEnvelope), (status = 422, description = "Unprocessable", body = ErrorEnvelope), (status = 500, description = "Instance fault", body = ErrorEnvelope), (status = 501, description = "Not implemented", body = ErrorEnvelope))
)]
fn backups_delete() {}

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Drover",
        description = "A Database-as-a-Service control plane speaking the OpenStack Trove v1.0 API. Errors use Trove's envelope: {\"<name>\": {\"code\": <status>, \"message\": \"…\"}}.",
        license(name = "Apache-2.0")
    ),
    paths(versions_index, version_show, flavors_list, flavors_show, flavors_create, flavors_delete, datastores_list, datastores_show, datastore_versions_list, datastore_versions_show, datastore_versions_show_by_id, datastore_version_flavors, parameters_list, parameters_show, parameters_list_by_version, parameters_show_by_version, mgmt_parameters_list, mgmt_versions_list, mgmt_versions_create, mgmt_versions_show, mgmt_versions_patch, mgmt_versions_delete, drivers_list, drivers_upload, drivers_show, drivers_activate, drivers_rollback, drivers_delete, quotas_show, quotas_update, limits_list, instances_list, instances_create, instances_show, instances_update, instances_edit, instances_delete, instances_action, instances_replicas, instances_tasks, mgmt_hosts, instances_configuration, databases_list, databases_create, databases_delete, users_list, users_create, users_change_passwords, users_show, users_update, users_delete, access_list, access_grant, access_revoke, root_enable, root_show, root_disable, configurations_list, configurations_create, configurations_show, configurations_update, configurations_edit, configurations_delete, configurations_instances, clusters_list, clusters_create, clusters_show, clusters_action, clusters_delete, backups_list, backups_create, backups_show, backups_delete),
    tags(
        (name = "versions", description = "Version discovery"),
        (name = "instances", description = "Instances and replicas"),
        (name = "accounts", description = "Databases, users and root of an instance"),
        (name = "configurations", description = "Configuration groups and parameters"),
        (name = "clusters", description = "Clusters"),
        (name = "backups", description = "Backups"),
        (name = "datastores", description = "Datastores and versions"),
        (name = "flavors", description = "Flavors"),
        (name = "quotas", description = "Quotas and limits"),
        (name = "mgmt", description = "Management (admin)"),
        (name = "drivers", description = "Datastore drivers (admin)")
    )
)]
struct ApiDoc;

/// The OpenAPI document of the whole API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_is_openapi_3_1_and_lists_every_route() {
        let document = serde_json::to_value(super::openapi()).unwrap();
        // The version clients and tools read first.
        assert_eq!(document["openapi"], "3.1.0");
        let paths = document["paths"].as_object().unwrap();
        for path in [
            "/v1.0/{project_id}/instances",
            "/v1.0/{project_id}/mgmt/drivers",
            "/v1.0/{project_id}/limits",
            "/v1.0",
        ] {
            assert!(paths.contains_key(path), "{path} is missing");
        }
        // Request and response schemas are in the components.
        let schemas = document["components"]["schemas"].as_object().unwrap();
        for schema in [
            "CreateInstanceRequest",
            "InstanceView",
            "ErrorEnvelope",
            "FlavorView",
        ] {
            assert!(schemas.contains_key(schema), "{schema} is missing");
        }
    }
}
