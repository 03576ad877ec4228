//! A throwaway PostgreSQL on loopback, for the tests and benchmarks of the
//! PostgreSQL ledger. Nothing here runs in a real deployment.
//!
//! Debian's server binaries (`/usr/lib/postgresql/<version>/bin`, installed by
//! `scripts/setup.sh`) run in a fresh temp directory: `initdb`, then
//! `postgres` on a free 127.0.0.1 port, password authentication over TCP.
//! PostgreSQL refuses to run as root, so as root both run as the `postgres`
//! user (`setpriv`), in a directory that user owns.
//!
//! As with [`crate::devcluster`], the server runs under a bash supervisor that
//! reads a pipe only this process holds: when this process exits for any
//! reason (even `SIGKILL`, even with the server in a never-dropped static) the
//! supervisor sees EOF, stops the server and removes the directory.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rand::RngCore;

use crate::supervised::Supervised;

/// Where Debian installs the server, one directory per major version.
const PG_LIB: &str = "/usr/lib/postgresql";
/// A cold start on a busy 2-core box takes a few seconds.
const START_DEADLINE: Duration = Duration::from_secs(60);
/// The role the tests connect as.
pub const USER: &str = "ats";

const SUPERVISOR: &str = r#"
# usage: supervise.sh POSTGRES_CMD...   (env: LOG_DIR, CLEANUP_DIR)
set -u
exec 3<&0 </dev/null
# Watcher: returns only at EOF, i.e. when the parent closed the pipe or died.
( while read -r -u 3 _; do :; done ) &
watcher=$!
"$@" 3<&- >>"$LOG_DIR/postgres.log" 2>&1 &
pg=$!
finish() {
  # SIGINT: PostgreSQL's fast shutdown; then SIGKILL if it lingers.
  kill -INT "$pg" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pg" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pg" "$watcher" 2>/dev/null
  wait 2>/dev/null
  if [ -n "${CLEANUP_DIR:-}" ]; then rm -rf -- "$CLEANUP_DIR"; fi
  exit "$1"
}
trap 'finish 143' TERM INT HUP
wait -n
finish $?
"#;

#[derive(Debug, thiserror::Error)]
pub enum DevDbError {
    #[error(
        "PostgreSQL's server binaries (initdb, postgres) were not found under {PG_LIB}/*/bin: run scripts/setup.sh (apt-get install postgresql), or set PG_BIN"
    )]
    Missing,
    #[error(
        "PostgreSQL refuses to run as root and there is no `postgres` user: run scripts/setup.sh"
    )]
    NoPostgresUser,
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{what} failed ({status}): {output}")]
    Command {
        what: String,
        status: String,
        output: String,
    },
    #[error("PostgreSQL was not ready within {secs}s; log in {dir}:\n{log}")]
    NotReady {
        secs: u64,
        dir: PathBuf,
        log: String,
    },
    #[error("PostgreSQL stopped during start-up ({status}); log:\n{log}")]
    Exited { status: String, log: String },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> DevDbError {
    let context = context.into();
    move |source| DevDbError::Io { context, source }
}

/// How the server trades safety for speed.
#[derive(Clone, Copy, Debug, Default)]
pub struct DevPostgresOptions {
    /// fsync every commit, as a production server does (benchmarks); off,
    /// tests do not wait for the disk.
    pub durable: bool,
    /// Serve TLS too, with a certificate for 127.0.0.1 signed by a CA of its
    /// own ([`DevPostgres::ca_file`]); clients choose with `sslmode`.
    pub tls: bool,
}

/// A running PostgreSQL; dropping it stops the server and removes its files.
#[derive(Debug)]
pub struct DevPostgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    password: String,
    supervisor: Supervised,
}

impl DevPostgres {
    /// Starts a server in a fresh directory under the system temp dir. Blocks
    /// until it accepts connections.
    pub fn start(opts: DevPostgresOptions) -> Result<Self, DevDbError> {
        let bin = server_bin()?;
        let run_as = run_as()?;
        let dir = std::env::temp_dir().join(format!(
            "ats-devdb-{}-{:08x}",
            std::process::id(),
            rand::thread_rng().next_u32()
        ));
        fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
        let mut raw = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut raw);
        let password = hex::encode(raw);
        let pwfile = dir.join("pwfile");
        fs::write(&pwfile, format!("{password}\n")).map_err(io_err("writing pwfile"))?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
            .map_err(io_err("chmod temp dir"))?;
        if let Some((uid, gid)) = run_as {
            for p in [&dir, &pwfile] {
                std::os::unix::fs::chown(p, Some(uid), Some(gid))
                    .map_err(io_err(format!("chown {}", p.display())))?;
            }
        }
        let data = dir.join("data");
        let initdb = privileged(run_as, &bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", USER, "-E", "UTF8", "--locale=C", "--no-sync"])
            .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .map_err(io_err("running initdb"))?;
        if !initdb.status.success() {
            let _ = fs::remove_dir_all(&dir);
            return Err(DevDbError::Command {
                what: "initdb".into(),
                status: initdb.status.to_string(),
                output: String::from_utf8_lossy(&initdb.stderr).into_owned(),
            });
        }
        let _ = fs::remove_file(&pwfile);
        let tls_settings = if opts.tls {
            make_certificates(&dir, run_as)?
        } else {
            Vec::new()
        };
        let port = free_port()?;
        let mut server = vec![
            bin.join("postgres").display().to_string(),
            "-D".into(),
            data.display().to_string(),
            "-p".into(),
            port.to_string(),
            "-c".into(),
            "listen_addresses=127.0.0.1".into(),
            "-c".into(),
            format!("unix_socket_directories={}", dir.display()),
            "-c".into(),
            "max_connections=300".into(),
        ];
        for setting in tls_settings {
            server.push("-c".into());
            server.push(setting);
        }
        if !opts.durable {
            // Test data is disposable; waiting for the disk only slows tests.
            for setting in [
                "fsync=off",
                "synchronous_commit=off",
                "full_page_writes=off",
            ] {
                server.push("-c".into());
                server.push(setting.into());
            }
        }
        let script = dir.join("supervise.sh");
        fs::write(&script, SUPERVISOR).map_err(io_err("writing supervisor script"))?;
        let mut args = vec![script.display().to_string()];
        if let Some((uid, gid)) = run_as {
            args.extend(setpriv_args(uid, gid));
        }
        args.extend(server);
        let mut cmd = Command::new("bash");
        cmd.args(&args)
            .env("LOG_DIR", &dir)
            .env("CLEANUP_DIR", &dir);
        let supervisor = Supervised::spawn(cmd, &dir, Duration::from_secs(15))
            .map_err(io_err("starting bash supervisor"))?;
        let mut db = DevPostgres {
            dir,
            bin,
            port,
            password,
            supervisor,
        };
        db.wait_ready()?;
        Ok(db)
    }

    fn wait_ready(&mut self) -> Result<(), DevDbError> {
        let started = Instant::now();
        loop {
            if let Some(status) = self
                .supervisor
                .exited()
                .map_err(io_err("polling supervisor"))?
            {
                return Err(DevDbError::Exited {
                    status: status.to_string(),
                    log: self.log_tail(),
                });
            }
            let accepting = TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && Command::new(self.bin.join("pg_isready"))
                    .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                    .status()
                    .is_ok_and(|s| s.success());
            if accepting {
                return Ok(());
            }
            if started.elapsed() > START_DEADLINE {
                return Err(DevDbError::NotReady {
                    secs: START_DEADLINE.as_secs(),
                    dir: self.dir.clone(),
                    log: self.log_tail(),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The URL of `database` on this server, with the password.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{USER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    /// Creates an empty database named `name` (letters, digits, `_`) and
    /// returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, DevDbError> {
        let out = Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER])
            .arg(name)
            .env("PGPASSWORD", &self.password)
            .output()
            .map_err(io_err("running createdb"))?;
        if !out.status.success() {
            return Err(DevDbError::Command {
                what: format!("createdb {name}"),
                status: out.status.to_string(),
                output: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        Ok(self.url(name))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The CA that signed the server's certificate (with `tls`).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// The password of [`USER`] (tests check that it never reaches a message).
    pub fn password(&self) -> &str {
        &self.password
    }

    fn log_tail(&self) -> String {
        self.supervisor
            .log_tail(&["supervisor.log", "postgres.log"], 20)
    }
}

/// The newest installed server's `bin` directory (or `PG_BIN`).
fn server_bin() -> Result<PathBuf, DevDbError> {
    if let Some(p) = std::env::var_os("PG_BIN") {
        return Ok(PathBuf::from(p));
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir(PG_LIB)
        .map_err(|_| DevDbError::Missing)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("postgres").is_file()).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b).ok_or(DevDbError::Missing)
}

/// As root: the `postgres` user's uid and gid, to run the server as.
fn run_as() -> Result<Option<(u32, u32)>, DevDbError> {
    let euid = fs::metadata("/proc/self")
        .map(|m| m.uid())
        .map_err(io_err("reading /proc/self"))?;
    if euid != 0 {
        return Ok(None);
    }
    let id = |flag: &str| -> Result<u32, DevDbError> {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .map_err(io_err("running id"))?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| DevDbError::NoPostgresUser)
    };
    Ok(Some((id("-u")?, id("-g")?)))
}

fn setpriv_args(uid: u32, gid: u32) -> Vec<String> {
    vec![
        "setpriv".into(),
        format!("--reuid={uid}"),
        format!("--regid={gid}"),
        "--clear-groups".into(),
        "--".into(),
    ]
}

/// `program`, run as `run_as` when given.
fn privileged(run_as: Option<(u32, u32)>, program: &Path) -> Command {
    match run_as {
        Some((uid, gid)) => {
            let args = setpriv_args(uid, gid);
            let mut c = Command::new(&args[0]);
            c.args(&args[1..]).arg(program);
            // initdb reads the current directory; root's may be closed to postgres.
            c.current_dir("/");
            c
        }
        None => Command::new(program),
    }
}

/// A CA and a server certificate for 127.0.0.1 (openssl); the server's
/// settings that use them. The key must be its owner's alone.
fn make_certificates(dir: &Path, run_as: Option<(u32, u32)>) -> Result<Vec<String>, DevDbError> {
    let p = |name: &str| dir.join(name).display().to_string();
    let steps: [Vec<String>; 3] = [
        vec![
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=ats-devdb-ca",
            "-keyout",
        ]
        .into_iter()
        .map(String::from)
        .chain([p("ca.key"), "-out".into(), p("ca.pem")])
        .collect(),
        vec![
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
        ]
        .into_iter()
        .map(String::from)
        .chain([p("server.key"), "-out".into(), p("server.csr")])
        .collect(),
        vec!["x509", "-req", "-days", "2", "-in"]
            .into_iter()
            .map(String::from)
            .chain([
                p("server.csr"),
                "-CA".into(),
                p("ca.pem"),
                "-CAkey".into(),
                p("ca.key"),
                "-CAcreateserial".into(),
                "-extfile".into(),
                p("server.ext"),
                "-out".into(),
                p("server.pem"),
            ])
            .collect(),
    ];
    fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .map_err(io_err("writing server.ext"))?;
    for args in steps {
        let out = Command::new("openssl")
            .args(&args)
            .output()
            .map_err(io_err("running openssl"))?;
        if !out.status.success() {
            return Err(DevDbError::Command {
                what: format!("openssl {}", args[0]),
                status: out.status.to_string(),
                output: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
    }
    let key = dir.join("server.key");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).map_err(io_err("chmod key"))?;
    if let Some((uid, gid)) = run_as {
        for name in ["server.key", "server.pem"] {
            std::os::unix::fs::chown(dir.join(name), Some(uid), Some(gid))
                .map_err(io_err(format!("chown {name}")))?;
        }
    }
    Ok(vec![
        "ssl=on".into(),
        format!("ssl_cert_file={}", p("server.pem")),
        format!("ssl_key_file={}", p("server.key")),
    ])
}

fn free_port() -> Result<u16, DevDbError> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(io_err("finding a free port"))?;
    Ok(l.local_addr()
        .map_err(io_err("finding a free port"))?
        .port())
}
