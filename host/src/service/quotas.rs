//! Quotas and limits.

use std::time::SystemTime;

use crate::quota::{QuotaLine, RESOURCES, RateStatus};

use super::{Ctx, ServiceError, ServiceResult, Services};

/// `GET /mgmt/quotas/{project}`: the caller's own project, or any project for admins.
pub async fn show(
    services: &Services,
    ctx: &Ctx,
    project_id: &str,
) -> ServiceResult<Vec<QuotaLine>> {
    if project_id != ctx.caller.project_id && !ctx.is_admin() {
        return Err(ServiceError::Forbidden(format!(
            "Policy doesn't allow quota:show to be performed on project {project_id}."
        )));
    }
    ctx.authorize_for(services, "quota:show", project_id)?;
    Ok(services.quotas.show(&services.store, project_id).await?)
}

/// `PUT /mgmt/quotas/{project}`: admins only. An unknown resource is a 404 (as Trove answers:
/// `QuotaResourceUnknown`), a limit below -1 a 400; -1 means unlimited.
pub async fn update(
    services: &Services,
    ctx: &Ctx,
    project_id: &str,
    limits: &[(String, i64)],
) -> ServiceResult<Vec<QuotaLine>> {
    ctx.authorize_for(services, "quota:update", project_id)?;
    if limits.is_empty() {
        return Err(ServiceError::BadRequest(
            "quotas: name at least one resource to change.".into(),
        ));
    }
    for (resource, limit) in limits {
        if !RESOURCES.contains(&resource.as_str()) {
            return Err(ServiceError::NotFound(format!(
                "Unknown quota resources ['{resource}'] (known: {}).",
                RESOURCES.join(", ")
            )));
        }
        if *limit < -1 {
            return Err(ServiceError::BadRequest(format!(
                "quotas.{resource}: {limit} is not a limit (use -1 for unlimited)."
            )));
        }
    }
    for (resource, limit) in limits {
        services
            .store
            .set_quota(project_id, resource, *limit)
            .await?;
    }
    Ok(services.quotas.show(&services.store, project_id).await?)
}

/// `GET /limits`: absolute limits with usage, and rate limits with what remains.
pub async fn limits(
    services: &Services,
    ctx: &Ctx,
) -> ServiceResult<(Vec<QuotaLine>, Vec<RateStatus>, SystemTime)> {
    ctx.authorize(services, "limits:index")?;
    let quotas = services
        .quotas
        .show(&services.store, &ctx.project_id)
        .await?;
    Ok((
        quotas,
        services.rate.status(&ctx.project_id),
        SystemTime::now(),
    ))
}
