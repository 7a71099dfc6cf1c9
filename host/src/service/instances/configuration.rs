//! The configuration an instance's node runs with.

use super::super::lookup::{driver_for, visible_instance};
use super::super::{Ctx, ServiceError, ServiceResult, Services};

/// `GET /instances/{id}/configuration`: the configuration the node runs with.
pub async fn effective_configuration(
    services: &Services,
    ctx: &Ctx,
    id: &str,
) -> ServiceResult<Vec<(String, serde_json::Value)>> {
    let instance = visible_instance(services, ctx, id).await?;
    ctx.authorize_for(services, "instance:configuration", &instance.project_id)?;
    let target = services
        .orchestrator
        .instance_node(&instance.id)
        .await
        .map_err(ServiceError::Conflict)?;
    let driver = driver_for(services, &target.version)?;
    let values = driver.effective_configuration(&target.context).await?;
    let catalog = driver.parameters(&target.version.name).await?;
    Ok(values
        .into_iter()
        .map(|(name, text)| {
            let kind = catalog.iter().find(|p| p.name == name).map(|p| p.kind);
            let value = typed(kind, &text);
            (name, value)
        })
        .collect())
}

/// A value as its catalog types it: numbers and booleans as JSON numbers and booleans (as
/// Trove's view parses them), a size or duration with its unit and any other text as text.
fn typed(kind: Option<crate::runtime::types::ParamKind>, text: &str) -> serde_json::Value {
    use crate::runtime::types::ParamKind;
    let number = || {
        text.parse::<i64>()
            .map(serde_json::Value::from)
            .ok()
            .or_else(|| {
                text.parse::<f64>()
                    .ok()
                    .and_then(|f| serde_json::Number::from_f64(f).map(serde_json::Value::Number))
            })
    };
    let value = match kind {
        // Settings outside the catalog (the port, say) read as Trove's view reads them: a
        // number if they are one.
        None
        | Some(ParamKind::Integer | ParamKind::Float | ParamKind::Size | ParamKind::Duration) => {
            number()
        }
        Some(ParamKind::Boolean) => match text.to_ascii_lowercase().as_str() {
            "on" | "true" | "yes" | "1" => Some(serde_json::Value::Bool(true)),
            "off" | "false" | "no" | "0" => Some(serde_json::Value::Bool(false)),
            _ => None,
        },
        _ => None,
    };
    value.unwrap_or_else(|| serde_json::Value::String(text.to_string()))
}
