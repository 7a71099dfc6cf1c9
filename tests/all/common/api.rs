//! A small HTTP client for the API under test.

use reqwest::blocking::Client as Http;
use serde_json::Value;

/// A reply: status, JSON body (Null when empty), headers.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body as JSON, or Null.
    pub body: Value,
    /// The response headers.
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self.body
    }

    /// Asserts Trove's error envelope with this name and status, and returns its message.
    #[track_caller]
    pub fn error(self, name: &str, status: u16) -> String {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        let inner = &self.body[name];
        assert_eq!(
            inner["code"], status,
            "not a {name} envelope: {}",
            self.body
        );
        let content_type = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert_eq!(content_type, "application/json");
        inner["message"].as_str().unwrap_or_default().to_string()
    }
}

/// A client for one project with one token.
#[derive(Clone)]
pub struct Client {
    http: Http,
    /// `http://127.0.0.1:<port>`.
    pub root: String,
    /// The project in the path.
    pub project: String,
    token: Option<String>,
    roles: Option<String>,
}

impl Client {
    /// A client for `project` at `root`.
    pub fn new(root: &str, project: &str, token: Option<&str>) -> Client {
        Client {
            http: Http::builder()
                .timeout(std::time::Duration::from_secs(120))
                .build()
                .unwrap(),
            root: root.to_string(),
            project: project.to_string(),
            token: token.map(str::to_string),
            roles: None,
        }
    }

    /// The same client sending `X-Roles` (noauth mode).
    pub fn with_roles(mut self, roles: &str) -> Client {
        self.roles = Some(roles.to_string());
        self
    }

    /// The same token, another project in the path.
    pub fn for_project(&self, project: &str) -> Client {
        Client {
            project: project.to_string(),
            ..self.clone()
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{path}", self.root)
        } else {
            format!("{}/v1.0/{}/{path}", self.root, self.project)
        }
    }

    /// Sends a request; `path` is relative to `/v1.0/{project}/` unless it starts with `/`.
    pub fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        self.try_send(method, path, body)
            .expect("the server answers")
    }

    /// Sends a request to a server that may die while answering: None when no reply came.
    pub fn try_send(&self, method: &str, path: &str, body: Option<&Value>) -> Option<Reply> {
        let mut request = self.http.request(method.parse().unwrap(), self.url(path));
        if let Some(token) = &self.token {
            request = request.header("X-Auth-Token", token);
        }
        if let Some(roles) = &self.roles {
            request = request.header("X-Roles", roles);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().ok().map(reply)
    }

    /// Sends raw bytes.
    pub fn send_bytes(
        &self,
        method: &str,
        path: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Reply {
        let mut request = self
            .http
            .request(method.parse().unwrap(), self.url(path))
            .header("Content-Type", content_type)
            .body(bytes);
        if let Some(token) = &self.token {
            request = request.header("X-Auth-Token", token);
        }
        reply(request.send().expect("the server answers"))
    }

    /// GET.
    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None)
    }

    /// POST with a JSON body.
    pub fn post(&self, path: &str, body: Value) -> Reply {
        self.send("POST", path, Some(&body))
    }

    /// PUT with a JSON body.
    pub fn put(&self, path: &str, body: Value) -> Reply {
        self.send("PUT", path, Some(&body))
    }

    /// PATCH with a JSON body.
    pub fn patch(&self, path: &str, body: Value) -> Reply {
        self.send("PATCH", path, Some(&body))
    }

    /// DELETE.
    pub fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, None)
    }
}

fn reply(response: reqwest::blocking::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(if text.is_empty() {
        Value::Null
    } else {
        Value::String(text)
    });
    Reply {
        status,
        body,
        headers,
    }
}

/// A token for `project` with `roles`, added to a running server's tokens file.
pub fn token(state_dir: &std::path::Path, project: &str, roles: &str) -> String {
    let output = std::process::Command::new(super::server::drover_bin())
        .args([
            "token",
            "create",
            "--project",
            project,
            "--roles",
            roles,
            "--state-dir",
        ])
        .arg(state_dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// The admin token a first start wrote.
pub fn admin_token(state_dir: &std::path::Path) -> String {
    std::fs::read_to_string(state_dir.join("admin-token"))
        .expect("the admin token file exists")
        .trim()
        .to_string()
}
