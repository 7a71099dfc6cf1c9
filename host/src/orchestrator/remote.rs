//! The host link: a node another host holds, reached through that host. A task runs on any
//! host, or on the host that holds its own node; when a step also acts on a node elsewhere (a
//! replica's source, a promotion's old source), or the API answers for an instance of another
//! host (its accounts), the node operation is sent to the holding host, which runs it on its
//! own backend, exactly as it runs its own steps.
//!
//! The holding host trusts nothing of the caller but the token: it finds the node from its own
//! store row (the instance must be placed on it), checks every path again, and its backend
//! confines what runs as it always does. The token is derived from the secrets key that hosts
//! sharing a store already share, and never travels anywhere but in this header.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::backend::{Installation, Node, NodeInfo, NodeReport};
use crate::runtime::{CommandOutput, NodeCommand, NodeOps};
use crate::store::HostRecord;

use super::Inner;

/// The header a host shows its token in.
pub const TOKEN_HEADER: &str = "x-drover-host-token";

/// The path node operations are posted to, under a host's link URL.
pub const NODES_PATH: &str = "/drover/v1/nodes";

/// How long an operation that changes a node may take (a server's start waits for it to be
/// ready); the holding host's API gives a request at most 300 s.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(310);

/// How long a look at a node may take (a file, whether it runs).
const LOOK_TIMEOUT: Duration = Duration::from_secs(15);

/// One node operation, as the holding host runs it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeRequest {
    /// The flavor the node runs with now, when a resize gives it another than its instance's.
    #[serde(default)]
    pub flavor_id: Option<String>,
    /// The operation.
    pub call: NodeCall,
}

/// The operations of [`Node`], as data.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum NodeCall {
    /// [`NodeOps::exec`].
    Exec {
        /// The program (a declared name) and its arguments.
        argv: Vec<String>,
        /// Standard input.
        #[serde(default, with = "base64_bytes_opt")]
        stdin: Option<Vec<u8>>,
        /// Extra environment.
        env: Vec<(String, String)>,
        /// How long it may run.
        timeout_ms: Option<u64>,
    },
    /// [`NodeOps::read_file`].
    ReadFile {
        /// Relative to the node directory.
        path: String,
    },
    /// [`NodeOps::write_file`].
    WriteFile {
        /// Relative to the node directory.
        path: String,
        /// The contents.
        #[serde(with = "base64_bytes")]
        contents: Vec<u8>,
        /// Its mode.
        mode: u32,
    },
    /// [`NodeOps::exists`].
    Exists {
        /// Relative to the node directory.
        path: String,
    },
    /// [`NodeOps::remove`].
    Remove {
        /// Relative to the node directory.
        path: String,
    },
    /// [`NodeOps::is_running`].
    IsRunning,
    /// [`NodeOps::start`].
    Start,
    /// [`NodeOps::stop`].
    Stop,
    /// [`NodeOps::restart`].
    Restart,
    /// [`Node::create`].
    Create,
    /// [`Node::install`].
    Install {
        /// What the driver rendered.
        installation: Installation,
    },
    /// [`Node::destroy`].
    Destroy,
    /// [`Node::holds`].
    Holds,
    /// [`Node::report`].
    Report,
}

/// What an operation gave.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum NodeReply {
    /// It was done.
    Done,
    /// A yes or no.
    Flag {
        /// The answer.
        value: bool,
    },
    /// A file's bytes.
    Bytes {
        /// The bytes.
        #[serde(with = "base64_bytes")]
        value: Vec<u8>,
    },
    /// What a command produced.
    Output {
        /// Its exit status.
        status: i32,
        /// Standard output.
        #[serde(with = "base64_bytes")]
        stdout: Vec<u8>,
        /// Standard error.
        #[serde(with = "base64_bytes")]
        stderr: Vec<u8>,
        /// Whether either was cut.
        truncated: bool,
    },
    /// What the holding host sees of the node.
    Report {
        /// The report, if the node exists.
        value: Option<NodeReport>,
    },
    /// It failed, with the message a driver or a step gets.
    Failed {
        /// The message.
        message: String,
    },
}

mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

mod base64_bytes_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        bytes: &Option<Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => super::base64_bytes::serialize(bytes, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        use base64::Engine as _;
        Option::<String>::deserialize(deserializer)?
            .map(|text| base64::engine::general_purpose::STANDARD.decode(text))
            .transpose()
            .map_err(serde::de::Error::custom)
    }
}

/// Why the holding host refused a node operation before running it.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// No such instance.
    #[error("{0}")]
    NotFound(String),
    /// The instance's node is not on this host.
    #[error("{0}")]
    NotHere(String),
    /// The request cannot be run (a path outside the node).
    #[error("{0}")]
    Invalid(String),
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("an HTTP client builds")
    })
}

/// A node another host holds.
pub struct RemoteNode {
    info: NodeInfo,
    /// Where its host takes operations on it.
    url: String,
    /// Its host's name, for messages.
    host: String,
    address: String,
    directory: PathBuf,
    flavor_id: Option<String>,
}

impl RemoteNode {
    /// The node `info` of an instance placed on `host`, listening on `address`.
    pub fn new(
        host: &HostRecord,
        info: &NodeInfo,
        address: String,
        flavor_id: Option<&str>,
    ) -> Result<RemoteNode, String> {
        if host.url.is_empty() || host.nodes_dir.is_empty() {
            return Err(format!(
                "instance {} is on host {}, which has not said where it is reached (it runs an older Drover, or never started since)",
                info.id, host.name
            ));
        }
        Ok(RemoteNode {
            info: info.clone(),
            url: format!("{}{NODES_PATH}/{}", host.url, info.id),
            host: host.name.clone(),
            address,
            directory: Path::new(&host.nodes_dir).join(&info.directory),
            flavor_id: flavor_id.map(str::to_string),
        })
    }

    async fn call(&self, call: NodeCall, timeout: Duration) -> Result<NodeReply, String> {
        let request = NodeRequest {
            flavor_id: self.flavor_id.clone(),
            call,
        };
        let response = client()
            .post(&self.url)
            .header(TOKEN_HEADER, crate::secrets::host_token())
            .timeout(timeout)
            .json(&request)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "host {} (which holds node {}) did not answer: {e}",
                    self.host, self.info.id
                )
            })?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(format!(
                "host {} refused an operation on node {} ({status}): {}",
                self.host,
                self.info.id,
                body.chars().take(500).collect::<String>()
            ));
        }
        match response.json::<NodeReply>().await {
            Ok(NodeReply::Failed { message }) => Err(message),
            Ok(reply) => Ok(reply),
            Err(error) => Err(format!(
                "host {} answered an operation on node {} with something unreadable: {error}",
                self.host, self.info.id
            )),
        }
    }

    async fn done(&self, call: NodeCall, timeout: Duration) -> Result<(), String> {
        match self.call(call, timeout).await? {
            NodeReply::Done => Ok(()),
            other => Err(self.unexpected(&other)),
        }
    }

    async fn flag(&self, call: NodeCall) -> Result<bool, String> {
        match self.call(call, LOOK_TIMEOUT).await? {
            NodeReply::Flag { value } => Ok(value),
            other => Err(self.unexpected(&other)),
        }
    }

    fn unexpected(&self, reply: &NodeReply) -> String {
        format!(
            "host {} answered an operation on node {} with an unexpected reply: {reply:?}",
            self.host, self.info.id
        )
    }
}

fn text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[async_trait]
impl NodeOps for RemoteNode {
    fn id(&self) -> String {
        self.info.id.clone()
    }

    fn address(&self) -> (String, u16) {
        (self.address.clone(), self.info.port)
    }

    fn directory(&self) -> PathBuf {
        self.directory.clone()
    }

    async fn exec(&self, command: NodeCommand) -> Result<CommandOutput, String> {
        let timeout = command.timeout.map_or(OPERATION_TIMEOUT, |t| {
            (t + LOOK_TIMEOUT).min(OPERATION_TIMEOUT)
        });
        let call = NodeCall::Exec {
            argv: command.argv,
            stdin: command.stdin,
            env: command.env,
            timeout_ms: command.timeout.map(|t| t.as_millis() as u64),
        };
        match self.call(call, timeout).await? {
            NodeReply::Output {
                status,
                stdout,
                stderr,
                truncated,
            } => Ok(CommandOutput {
                status,
                stdout,
                stderr,
                truncated,
            }),
            other => Err(self.unexpected(&other)),
        }
    }

    async fn read_file(&self, path: &Path) -> Result<Vec<u8>, String> {
        let call = NodeCall::ReadFile { path: text(path) };
        match self.call(call, LOOK_TIMEOUT).await? {
            NodeReply::Bytes { value } => Ok(value),
            other => Err(self.unexpected(&other)),
        }
    }

    async fn write_file(&self, path: &Path, contents: &[u8], mode: u32) -> Result<(), String> {
        let call = NodeCall::WriteFile {
            path: text(path),
            contents: contents.to_vec(),
            mode,
        };
        self.done(call, LOOK_TIMEOUT).await
    }

    async fn exists(&self, path: &Path) -> Result<bool, String> {
        self.flag(NodeCall::Exists { path: text(path) }).await
    }

    async fn remove(&self, path: &Path) -> Result<(), String> {
        self.done(NodeCall::Remove { path: text(path) }, OPERATION_TIMEOUT)
            .await
    }

    async fn is_running(&self) -> bool {
        match self.flag(NodeCall::IsRunning).await {
            Ok(running) => running,
            Err(error) => {
                tracing::warn!(node = %self.info.id, "{error}");
                false
            }
        }
    }

    async fn start(&self) -> Result<(), String> {
        self.done(NodeCall::Start, OPERATION_TIMEOUT).await
    }

    async fn stop(&self) -> Result<(), String> {
        self.done(NodeCall::Stop, OPERATION_TIMEOUT).await
    }

    async fn restart(&self) -> Result<(), String> {
        self.done(NodeCall::Restart, OPERATION_TIMEOUT).await
    }
}

#[async_trait]
impl Node for RemoteNode {
    async fn create(&self) -> Result<(), String> {
        self.done(NodeCall::Create, OPERATION_TIMEOUT).await
    }

    async fn install(&self, installation: &Installation) -> Result<(), String> {
        let call = NodeCall::Install {
            installation: installation.clone(),
        };
        self.done(call, OPERATION_TIMEOUT).await
    }

    async fn destroy(&self) -> Result<(), String> {
        self.done(NodeCall::Destroy, OPERATION_TIMEOUT).await
    }

    async fn holds(&self) -> bool {
        self.flag(NodeCall::Holds).await.unwrap_or(false)
    }

    async fn report(&self) -> Option<NodeReport> {
        match self.call(NodeCall::Report, LOOK_TIMEOUT).await {
            Ok(NodeReply::Report { value }) => value,
            Ok(other) => {
                tracing::warn!(node = %self.info.id, "{}", self.unexpected(&other));
                None
            }
            Err(error) => {
                tracing::debug!(node = %self.info.id, "{error}");
                None
            }
        }
    }
}

/// Runs a node operation another host sent, on a node this host holds.
pub(crate) async fn serve(
    inner: &Inner,
    instance_id: &str,
    request: NodeRequest,
) -> Result<NodeReply, LinkError> {
    let instance = inner
        .store
        .instance_any(instance_id)
        .await
        .map_err(|e| LinkError::NotFound(e.to_string()))?;
    if instance.host_id.as_deref() != Some(inner.host_id.as_str()) {
        return Err(LinkError::NotHere(format!(
            "instance {instance_id} is not placed on this host"
        )));
    }
    let flavor = inner
        .store
        .flavor(request.flavor_id.as_deref().unwrap_or(&instance.flavor_id))
        .await
        .map_err(|e| LinkError::NotFound(e.to_string()))?;
    let node = inner
        .backend
        .node(&super::context::node_info(&instance, &flavor));
    let path = |path: &str| crate::runtime::node_path(path).map_err(LinkError::Invalid);
    let done = |result: Result<(), String>| match result {
        Ok(()) => NodeReply::Done,
        Err(message) => NodeReply::Failed { message },
    };
    Ok(match request.call {
        NodeCall::Exec {
            argv,
            stdin,
            env,
            timeout_ms,
        } => {
            let command = NodeCommand {
                argv,
                stdin,
                env,
                timeout: timeout_ms.map(Duration::from_millis),
            };
            match node.exec(command).await {
                Ok(output) => NodeReply::Output {
                    status: output.status,
                    stdout: output.stdout,
                    stderr: output.stderr,
                    truncated: output.truncated,
                },
                Err(message) => NodeReply::Failed { message },
            }
        }
        NodeCall::ReadFile { path: file } => match node.read_file(&path(&file)?).await {
            Ok(value) => NodeReply::Bytes { value },
            Err(message) => NodeReply::Failed { message },
        },
        NodeCall::WriteFile {
            path: file,
            contents,
            mode,
        } => done(node.write_file(&path(&file)?, &contents, mode).await),
        NodeCall::Exists { path: file } => match node.exists(&path(&file)?).await {
            Ok(value) => NodeReply::Flag { value },
            Err(message) => NodeReply::Failed { message },
        },
        NodeCall::Remove { path: file } => done(node.remove(&path(&file)?).await),
        NodeCall::IsRunning => NodeReply::Flag {
            value: node.is_running().await,
        },
        NodeCall::Start => done(node.start().await),
        NodeCall::Stop => done(node.stop().await),
        NodeCall::Restart => done(node.restart().await),
        NodeCall::Create => done(node.create().await),
        NodeCall::Install { installation } => {
            for directory in &installation.directories {
                path(directory)?;
            }
            for file in &installation.files {
                path(&file.path)?;
            }
            done(node.install(&installation).await)
        }
        NodeCall::Destroy => done(node.destroy().await),
        NodeCall::Holds => NodeReply::Flag {
            value: node.holds().await,
        },
        NodeCall::Report => NodeReply::Report {
            value: node.report().await,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_and_replies_carry_bytes_as_base64_and_read_back_the_same() {
        let call = NodeRequest {
            flavor_id: None,
            call: NodeCall::WriteFile {
                path: "conf/server.conf".into(),
                contents: vec![0, 255, b'a'],
                mode: 0o600,
            },
        };
        let json = serde_json::to_string(&call).unwrap();
        assert!(json.contains(r#""op":"write_file""#), "{json}");
        assert!(json.contains(r#""contents":"AP9h""#), "{json}");
        let back: NodeRequest = serde_json::from_str(&json).unwrap();
        let NodeCall::WriteFile { contents, .. } = back.call else {
            panic!("{json}");
        };
        assert_eq!(contents, vec![0, 255, b'a']);

        let exec: NodeCall = serde_json::from_str(
            r#"{"op":"exec","argv":["server-cli","PING"],"env":[],"timeout_ms":null}"#,
        )
        .unwrap();
        assert!(matches!(exec, NodeCall::Exec { stdin: None, .. }));

        let reply = NodeReply::Output {
            status: 1,
            stdout: b"out".to_vec(),
            stderr: vec![],
            truncated: false,
        };
        let json = serde_json::to_string(&reply).unwrap();
        let NodeReply::Output { stdout, status, .. } = serde_json::from_str(&json).unwrap() else {
            panic!("{json}");
        };
        assert_eq!((status, stdout), (1, b"out".to_vec()));
    }
}
