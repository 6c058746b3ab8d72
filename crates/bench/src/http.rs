//! Load through the real server: this binary is started again as a child process, serving the
//! benchmark's data with the same `Application` as `kakehashi serve`; a member logs in, a load
//! driver keeps a number of keep-alive connections busy with the query mix, then the server's
//! peak resident memory is read from `/proc`.
//!
//! The driver speaks just enough HTTP/1.1 (one request at a time per connection, bodies with a
//! `Content-Length`) to cost the server's two cores as little as possible; it runs on one
//! thread of its own.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// The server child, killed when dropped; its memory sampled from its start.
pub struct Server {
    child: Child,
    pub addr: std::net::SocketAddr,
    memory: crate::memory::Sampler,
    /// From starting the process to its first ready answer (the index rebuild included).
    pub started_in: Duration,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the server (this binary's [`crate::SERVE`] mode) on `data_dir` (`SQLite`, its index) with matching off, and waits
    /// until it is ready.
    ///
    /// # Errors
    /// When the binary cannot be started or does not become ready within two minutes.
    pub async fn start(data_dir: &Path) -> anyhow::Result<Server> {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let log = std::fs::File::create(data_dir.join("server.log"))?;
        let child = Command::new(std::env::current_exe()?)
            .arg(crate::SERVE)
            .env("KAKEHASHI__DATA_DIR", data_dir)
            .env("KAKEHASHI__DATABASE__URL", "")
            .env("KAKEHASHI__SEARCH__DIR", "")
            .env("KAKEHASHI__SERVER__BIND", addr.to_string())
            .env("KAKEHASHI__MATCHING__ENABLED", "false")
            .env("KAKEHASHI__LOG__LEVEL", "warn")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting the server")?;
        let started = Instant::now();
        let memory = crate::memory::Sampler::start(child.id());
        let mut server = Server { child, addr, memory, started_in: Duration::ZERO };
        loop {
            if let Ok(mut conn) = Connection::open(addr).await
                && matches!(conn.request(b"GET /readyz HTTP/1.1\r\nHost: bench\r\n\r\n").await, Ok((200, _)))
            {
                server.started_in = started.elapsed();
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                anyhow::bail!("the server exited ({status}); see {}", data_dir.join("server.log").display());
            }
            anyhow::ensure!(started.elapsed() < Duration::from_mins(2), "the server did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Marks the start of phase `index` of [`crate::memory::PHASES`] for the memory sampler.
    pub fn enter(&self, index: usize) {
        self.memory.enter(index);
    }

    /// The server's resident memory over its life so far: its peak and what made it up (Linux).
    #[must_use]
    pub fn memory(&self) -> crate::memory::Peaks {
        self.memory.peaks()
    }

    /// CPU time the server has used so far, user and system (Linux).
    #[must_use]
    pub fn cpu(&self) -> Duration {
        cpu_of(&format!("/proc/{}/stat", self.child.id()))
    }

    /// Logs in and returns the access token.
    ///
    /// # Errors
    /// When the login is refused.
    pub async fn login(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let body = serde_json::json!({ "email": email, "password": password }).to_string();
        let request = format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut conn = Connection::open(self.addr).await?;
        let (status, body) = conn.request(request.as_bytes()).await?;
        anyhow::ensure!(status == 200, "login answered {status}: {}", String::from_utf8_lossy(&body));
        let value: serde_json::Value = serde_json::from_slice(&body)?;
        value["access_token"].as_str().map(str::to_owned).context("no access_token in the login answer")
    }
}

/// CPU time a process has used so far, user and system, from its `/proc/…/stat` (Linux).
#[must_use]
pub fn cpu_of(stat_path: &str) -> Duration {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the line, in clock ticks of 1/100 s.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// One keep-alive connection.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    async fn open(addr: std::net::SocketAddr) -> std::io::Result<Connection> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Connection { stream, buffer: Vec::with_capacity(64 * 1024) })
    }

    /// Sends one request and reads the whole answer: its status and body.
    async fn request(&mut self, request: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
        self.stream.write_all(request).await?;
        self.buffer.clear();
        let head_end = loop {
            if let Some(i) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            self.read_more().await?;
        };
        let head = std::str::from_utf8(&self.buffer[..head_end]).map_err(|_| invalid("a non-UTF-8 head"))?;
        let status = head.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok()).ok_or_else(|| invalid("no status"))?;
        let length = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse::<usize>().ok())
            .ok_or_else(|| invalid("an answer without Content-Length"))?;
        while self.buffer.len() < head_end + length {
            self.read_more().await?;
        }
        Ok((status, self.buffer[head_end..head_end + length].to_vec()))
    }

    /// Appends what the stream has to the buffer (read into the buffer itself: no chunk on the
    /// stack of every request's future).
    async fn read_more(&mut self) -> std::io::Result<()> {
        self.buffer.reserve(16 * 1024);
        if self.stream.read_buf(&mut self.buffer).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }
}

/// What a load run measured.
#[derive(Debug, Clone, Default)]
pub struct Load {
    /// Requests answered in the measured part.
    pub requests: usize,
    /// Requests answered in the warm-up and the measured part together.
    pub all_requests: usize,
    pub errors: usize,
    pub seconds: f64,
    /// Latencies of the successful requests, sorted.
    pub latencies: Vec<Duration>,
}

impl Load {
    #[must_use]
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// Keeps `connections` connections busy with `paths` (round robin, each connection starting
/// elsewhere in the list) for `warmup` then `duration`; only the second part is measured.
///
/// # Errors
/// When a connection cannot be opened.
pub fn load(
    addr: std::net::SocketAddr,
    token: &str,
    paths: &[String],
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<Load> {
    let requests: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| format!("GET {p} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n").into_bytes())
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let requests = std::sync::Arc::new(requests);
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                runtime.block_on(async {
                    let start = Instant::now();
                    let measure_from = start + warmup;
                    let end = measure_from + duration;
                    let mut tasks = Vec::with_capacity(connections);
                    for c in 0..connections {
                        let requests = std::sync::Arc::clone(&requests);
                        let mut conn = Connection::open(addr).await?;
                        tasks.push(tokio::spawn(async move {
                            let (mut latencies, mut errors, mut answered) = (Vec::new(), 0usize, 0usize);
                            let mut i = c;
                            loop {
                                let sent = Instant::now();
                                if sent >= end {
                                    break;
                                }
                                let request = &requests[i % requests.len()];
                                i += 1;
                                let ok = if let Ok((status, _)) = conn.request(request).await {
                                    status == 200
                                } else {
                                    conn = match Connection::open(addr).await {
                                        Ok(c) => c,
                                        Err(_) => break,
                                    };
                                    false
                                };
                                answered += usize::from(ok);
                                if sent >= measure_from {
                                    if ok {
                                        latencies.push(sent.elapsed());
                                    } else {
                                        errors += 1;
                                    }
                                }
                            }
                            (latencies, errors, answered)
                        }));
                    }
                    let mut load = Load { seconds: duration.as_secs_f64(), ..Load::default() };
                    for task in tasks {
                        let (latencies, errors, answered) = task.await?;
                        load.requests += latencies.len();
                        load.all_requests += answered;
                        load.errors += errors;
                        load.latencies.extend(latencies);
                    }
                    load.latencies.sort_unstable();
                    Ok(load)
                })
            })
            .join()
            .map_err(|_| anyhow::anyhow!("the load driver panicked"))?
    })
}

/// Sends `requests` one after another on one connection, `rounds` times over (interleaved, so
/// every request meets the same conditions), and returns each request's latencies, sorted.
///
/// # Errors
/// When a connection fails or a request is not answered 200.
pub async fn sequential(
    addr: std::net::SocketAddr,
    requests: &[Vec<u8>],
    rounds: usize,
) -> anyhow::Result<Vec<Vec<Duration>>> {
    let mut conn = Connection::open(addr).await?;
    let mut times = vec![Vec::with_capacity(rounds); requests.len()];
    for _ in 0..rounds {
        for (request, times) in requests.iter().zip(&mut times) {
            let sent = Instant::now();
            let (status, body) = conn.request(request).await?;
            let took = sent.elapsed();
            anyhow::ensure!(
                status == 200,
                "{} answered {status}: {}",
                String::from_utf8_lossy(request).lines().next().unwrap_or_default(),
                String::from_utf8_lossy(&body).chars().take(200).collect::<String>()
            );
            times.push(took);
        }
    }
    for times in &mut times {
        times.sort_unstable();
    }
    Ok(times)
}
