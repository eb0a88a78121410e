//! A real `berth serve` process for fault tests: its own database and port, the cluster named by
//! `KUBECONFIG`, an admin token, and a small HTTP client. It can be killed (SIGKILL), stopped
//! (SIGTERM) and started again on the same database.
#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, body::Bytes};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

/// A running (or stopped) Berth.
pub struct Berth {
    child: Option<Child>,
    pub db: PathBuf,
    pub port: u16,
    pub token: String,
    env: Vec<(String, String)>,
    log: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Berth {
    /// Starts Berth on a fresh database in `dir`, with extra environment `env`.
    pub async fn start(dir: &Path, env: &[(&str, &str)]) -> Berth {
        let db = dir.join("berth.db");
        Berth::start_on(dir, &db.to_string_lossy(), None, env).await
    }

    /// Starts Berth on the database `db` (a SQLite path or a PostgreSQL URL), logging beside
    /// `dir`, with extra environment `env`. It uses `token` when given (one already in that
    /// database: another replica's), else creates an admin token.
    pub async fn start_on(
        dir: &Path,
        db: &str,
        token: Option<&str>,
        env: &[(&str, &str)],
    ) -> Berth {
        let token = match token {
            Some(t) => t.to_string(),
            None => {
                let out = Command::new(BIN)
                    .args([
                        "token", "create", "--role", "admin", "--name", "faults", "--db", db,
                    ])
                    .envs(env.iter().copied())
                    .output()
                    .expect("berth token create");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                String::from_utf8_lossy(&out.stdout).trim().to_string()
            }
        };
        let mut berth = Berth {
            child: None,
            db: PathBuf::from(db),
            port: free_port(),
            token,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            // Beside `dir`, not in it: a test may fill or unmount `dir`.
            log: dir.with_extension("log"),
        };
        berth.restart().await;
        berth
    }

    /// Starts the process again (same database and port) and waits until it answers.
    pub async fn restart(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let child = Command::new(BIN)
            .arg("serve")
            .env("BERTH_ADDR", format!("127.0.0.1:{}", self.port))
            .env("BERTH_DB", &self.db)
            .env(
                "BERTH_TEMPLATES",
                concat!(env!("CARGO_MANIFEST_DIR"), "/../manifests"),
            )
            .env("RUST_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("berth serve");
        self.child = Some(child);
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            if self.call(Method::GET, "/healthz", None).await.0 == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("berth did not start: {}", self.log_text());
    }

    /// A handle that calls the same Berth (without owning its process).
    pub fn probe(&self) -> Berth {
        Berth {
            child: None,
            db: self.db.clone(),
            port: self.port,
            token: self.token.clone(),
            env: self.env.clone(),
            log: self.log.clone(),
        }
    }

    /// Sets one environment variable for the next start.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
    }

    /// The process id of the running server.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGKILL, and waits for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM; answers once it exited, with how long that took.
    pub async fn terminate(&mut self, within: Duration) -> Duration {
        let mut c = self.child.take().expect("running");
        let started = Instant::now();
        let sent = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(sent.success());
        while started.elapsed() < within {
            if c.try_wait().expect("wait").is_some() {
                return started.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = c.kill();
        let _ = c.wait();
        panic!(
            "berth did not exit within {within:?} of SIGTERM: {}",
            self.log_text()
        );
    }

    /// What it wrote to its log.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// One request: the status and the JSON body (`null` when there is none).
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let req = Request::builder()
            .method(method)
            .uri(format!("http://127.0.0.1:{}{path}", self.port))
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            )))
            .expect("request");
        match tokio::time::timeout(Duration::from_secs(120), client.request(req)).await {
            Ok(Ok(res)) => {
                let status = res.status().as_u16();
                let bytes = res.into_body().collect().await.map(|b| b.to_bytes());
                let json = bytes
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .unwrap_or(Value::Null);
                (status, json)
            }
            _ => (0, Value::Null),
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// Opens the SSE stream at `path`.
    pub async fn sse(&self, path: &str) -> Sse {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let req = Request::builder()
            .uri(format!("http://127.0.0.1:{}{path}", self.port))
            .header("authorization", format!("Bearer {}", self.token))
            .body(Full::new(Bytes::new()))
            .expect("request");
        let res = client.request(req).await.expect("the stream opens");
        assert_eq!(res.status().as_u16(), 200, "{path}");
        Sse {
            body: res.into_body(),
            buffer: String::new(),
        }
    }

    /// Polls operation `id` until `done` holds (or `secs` pass), answering the operation.
    pub async fn wait_operation(
        &self,
        id: &str,
        secs: u64,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            let (_, op) = self.get(&format!("/api/v1/operations/{id}")).await;
            if done(&op) {
                return op;
            }
            assert!(
                Instant::now() < until,
                "operation {id} never got there: {op}"
            );
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
    }

    /// Polls the instance until it is Healthy (or `secs` pass).
    pub async fn wait_healthy(&self, ns: &str, name: &str, secs: u64) -> Value {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            let (_, view) = self.get(&format!("/api/v1/instances/{ns}/{name}")).await;
            if view["health"]["state"] == "Healthy" {
                return view;
            }
            assert!(
                Instant::now() < until,
                "{ns}/{name} never became Healthy: {}",
                view["health"]
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Berth {
    fn drop(&mut self) {
        self.kill();
    }
}

/// k of an interrupted revision's message ("… after k of n objects; …").
pub fn applied_before_interruption(message: &str) -> usize {
    message
        .split("after ")
        .nth(1)
        .and_then(|m| m.split(' ').next())
        .and_then(|k| k.parse().ok())
        .unwrap_or_else(|| panic!("no count in {message:?}"))
}

impl Berth {
    /// Resumes revision `number` of the instance at `base` and waits: it must succeed.
    pub async fn resume_to_success(&self, base: &str, number: i64) {
        let (status, resumed) = self
            .post(
                &format!("{base}/revisions/{number}/resume?wait=true"),
                serde_json::json!({}),
            )
            .await;
        assert_eq!(
            (status, resumed["status"].as_str()),
            (200, Some("succeeded")),
            "{resumed}"
        );
    }
}

/// The number of per-object results an operation has so far.
pub fn results(op: &Value) -> usize {
    op["results"].as_array().map(Vec::len).unwrap_or(0)
}

/// An SSE stream being read.
pub struct Sse {
    body: hyper::body::Incoming,
    buffer: String,
}

impl Sse {
    /// The next event (its name and JSON data), or `None` when none comes within `within`.
    pub async fn next(&mut self, within: Duration) -> Option<(String, Value)> {
        let until = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let event = frame
                    .lines()
                    .find_map(|l| l.strip_prefix("event: "))
                    .unwrap_or("message")
                    .to_string();
                let data: String = frame
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .collect();
                match serde_json::from_str(&data) {
                    Ok(value) => return Some((event, value)),
                    Err(_) => continue,
                }
            }
            let frame = tokio::time::timeout_at(until, self.body.frame())
                .await
                .ok()??
                .ok()?;
            if let Some(data) = frame.data_ref() {
                self.buffer.push_str(&String::from_utf8_lossy(data));
            }
        }
    }
}
