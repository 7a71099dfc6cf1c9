//! Pieces every resource uses: links, lenient request values, pagination.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// A link to a resource: `self` (versioned URL) or `bookmark` (unversioned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Link {
    /// The URL.
    pub href: String,
    /// `self`, `bookmark` or `next`.
    pub rel: String,
}

/// A reference to another resource: its id and links (how `replica_of`, `replicas` and
/// `configuration` appear in views).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResourceRef {
    /// The id.
    pub id: String,
    /// The name, where the view shows it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    /// Links to it.
    pub links: Vec<Link>,
}

/// A whole number that clients send as a JSON number or as a string of digits (the cluster
/// and instance commands send `"1"` for sizes and counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[schema(value_type = i64)]
pub struct Count(pub i64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Number(i64),
            Text(String),
        }
        match Either::deserialize(deserializer)? {
            Either::Number(n) => Ok(Count(n)),
            Either::Text(text) => {
                text.trim().parse().map(Count).map_err(|_| {
                    serde::de::Error::custom(format!("{text:?} is not a whole number"))
                })
            }
        }
    }
}

/// A flavor reference: an id as a number or a string, or a URL ending in the id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(value_type = String)]
pub struct FlavorRef(pub String);

impl FlavorRef {
    /// The flavor id the reference names.
    pub fn id(&self) -> &str {
        self.0
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(&self.0)
    }
}

impl<'de> Deserialize<'de> for FlavorRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Number(i64),
            Text(String),
        }
        Ok(FlavorRef(match Either::deserialize(deserializer)? {
            Either::Number(n) => n.to_string(),
            Either::Text(text) => text,
        }))
    }
}

/// A boolean query value as Python clients write it: `True`/`False`, `true`/`false`, `1`/`0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, ToSchema)]
#[schema(value_type = bool)]
pub struct PyBool(pub bool);

impl<'de> Deserialize<'de> for PyBool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(PyBool(true)),
            "false" | "0" | "no" => Ok(PyBool(false)),
            _ => Err(serde::de::Error::custom(format!(
                "{text:?} is not a boolean (use true or false)"
            ))),
        }
    }
}

/// Pagination: at most `limit` items after the one with id `marker`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct Page {
    /// How many items at most.
    #[serde(default)]
    pub limit: Option<Count>,
    /// The id of the last item of the previous page.
    #[serde(default)]
    pub marker: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_values_accept_what_real_clients_send() {
        // Numbers and digit strings are both counts.
        assert_eq!(serde_json::from_str::<Count>("2").unwrap(), Count(2));
        assert_eq!(serde_json::from_str::<Count>("\"2\"").unwrap(), Count(2));
        assert!(serde_json::from_str::<Count>("\"two\"").is_err());
        // A flavor reference may be a number, a string id, or a link.
        assert_eq!(serde_json::from_str::<FlavorRef>("6").unwrap().id(), "6");
        assert_eq!(
            serde_json::from_str::<FlavorRef>("\"ds1G\"").unwrap().id(),
            "ds1G"
        );
        assert_eq!(
            serde_json::from_str::<FlavorRef>("\"https://h/v1.0/p/flavors/7\"")
                .unwrap()
                .id(),
            "7"
        );
        // Python's booleans in query strings.
        assert_eq!(
            serde_json::from_str::<PyBool>("\"False\"").unwrap(),
            PyBool(false)
        );
        assert_eq!(
            serde_json::from_str::<PyBool>("\"True\"").unwrap(),
            PyBool(true)
        );
    }
}
