//! The states an instance row records, by the names Trove's API shows (and the store holds).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A value read from the store that names no known state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}")]
pub struct UnknownState {
    /// What was being read (`instance status`, `quota state`).
    pub kind: &'static str,
    /// The value.
    pub value: String,
}

/// Declares a state enum with its wire names, `as_str`, `Display`, `FromStr`, and the sqlx
/// `Type` and `Decode` the row mapping reads it with (as text).
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire (and stored) name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $wire, )+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownState;

            fn from_str(value: &str) -> Result<Self, UnknownState> {
                match value {
                    $( $wire => Ok($name::$variant), )+
                    other => Err(UnknownState {
                        kind: $kind,
                        value: other.to_string(),
                    }),
                }
            }
        }

        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            String: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx::Type<DB>>::compatible(ty)
            }
        }

        /// Decoded from its stored name; an unknown one fails with [`UnknownState`], which
        /// the store reports as `Corrupt`.
        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            String: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <String as sqlx::Decode<'r, DB>>::decode(value)?;
                Ok(text.parse::<$name>()?)
            }
        }
    };
}

wire_enum! {
    /// The status the API shows for an instance.
    InstanceStatus, "instance status" {
        /// Being created.
        Build = "BUILD",
        /// Running and healthy.
        Active = "ACTIVE",
        /// Its server is restarting.
        Reboot = "REBOOT",
        /// A source restarting to take replicas.
        Restart = "RESTART",
        /// Its flavor or volume is changing.
        Resize = "RESIZE",
        /// Stopped, or being deleted.
        Shutdown = "SHUTDOWN",
        /// Failed.
        Error = "ERROR",
        /// Running, with configuration that takes effect on restart.
        RestartRequired = "RESTART_REQUIRED",
        /// A replica becoming its set's source.
        Promote = "PROMOTE",
        /// A replica becoming standalone.
        DetachReplica = "DETACH_REPLICA",
        /// Deleted.
        Deleted = "DELETED",
    }
}

impl InstanceStatus {
    /// No workflow is changing it: running, restart-required, stopped or failed. Actions,
    /// configuration changes and the health pass take settled instances only.
    pub const fn is_settled(self) -> bool {
        matches!(
            self,
            InstanceStatus::Active
                | InstanceStatus::RestartRequired
                | InstanceStatus::Shutdown
                | InstanceStatus::Error
        )
    }

    /// Its server runs and answers: ACTIVE or RESTART_REQUIRED.
    pub const fn is_serving(self) -> bool {
        matches!(
            self,
            InstanceStatus::Active | InstanceStatus::RestartRequired
        )
    }

    /// Settled and not failed: its node's volume usage means something.
    pub const fn is_settled_ok(self) -> bool {
        self.is_settled() && !matches!(self, InstanceStatus::Error)
    }
}

wire_enum! {
    /// Where an instance's quota stands.
    QuotaState, "quota state" {
        /// Reserved while it is built.
        Reserved = "reserved",
        /// Counted as in use.
        Committed = "committed",
        /// Given back.
        Released = "released",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for status in InstanceStatus::ALL {
            assert_eq!(status.as_str().parse::<InstanceStatus>(), Ok(*status));
            assert_eq!(
                serde_json::to_string(status).unwrap(),
                format!("\"{}\"", status.as_str())
            );
        }
        for state in QuotaState::ALL {
            assert_eq!(state.as_str().parse::<QuotaState>(), Ok(*state));
        }
        assert_eq!(InstanceStatus::RestartRequired.as_str(), "RESTART_REQUIRED");
        assert_eq!(QuotaState::Committed.to_string(), "committed");
    }

    #[test]
    fn unknown_names_are_refused() {
        let error = "BUILDING".parse::<InstanceStatus>().unwrap_err();
        assert_eq!(error.to_string(), "unknown instance status \"BUILDING\"");
        assert!("Committed".parse::<QuotaState>().is_err());
    }

    #[test]
    fn an_unknown_stored_value_is_corrupt() {
        let error = sqlx::Error::ColumnDecode {
            index: "\"status\"".into(),
            source: Box::new("BUILDING".parse::<InstanceStatus>().unwrap_err()),
        };
        match super::super::StoreError::from(error) {
            super::super::StoreError::Corrupt(message) => {
                assert!(
                    message.contains("unknown instance status \"BUILDING\""),
                    "{message}"
                )
            }
            other => panic!("not corrupt: {other:?}"),
        }
    }

    #[test]
    fn settled_sets() {
        let settled: Vec<_> = InstanceStatus::ALL
            .iter()
            .filter(|s| s.is_settled())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(settled, ["ACTIVE", "SHUTDOWN", "ERROR", "RESTART_REQUIRED"]);
        assert!(InstanceStatus::RestartRequired.is_serving());
        assert!(!InstanceStatus::Shutdown.is_serving());
        assert!(InstanceStatus::Shutdown.is_settled_ok());
        assert!(!InstanceStatus::Error.is_settled_ok());
    }
}
