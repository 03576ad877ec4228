//! A test or demo server under a bash supervisor (see [`crate::devcluster`]
//! and [`crate::devdb`]): the supervisor runs in its own process group with
//! our pipe on its stdin. When this value drops, or this process dies (even
//! by SIGKILL, since the kernel closes the pipe), the supervisor sees EOF and
//! stops what it started.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Supervised {
    child: Child,
    /// Closing this (drop, or process exit) tells the supervisor to stop.
    lifeline: Option<ChildStdin>,
    /// Where the supervisor's and its children's logs are.
    dir: PathBuf,
    /// How long a drop waits for an orderly stop before killing the group.
    stop_wait: Duration,
}

impl Supervised {
    /// Spawns `cmd` (the supervisor) logging to `dir/supervisor.log`.
    pub fn spawn(mut cmd: Command, dir: &Path, stop_wait: Duration) -> std::io::Result<Self> {
        let log = fs::File::create(dir.join("supervisor.log"))?;
        let log2 = log.try_clone()?;
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(log)
            .stderr(log2)
            // Own group: a terminal's Ctrl-C goes to us, and we decide when it stops.
            .process_group(0)
            .spawn()?;
        let lifeline = child.stdin.take();
        Ok(Supervised {
            child,
            lifeline,
            dir: dir.to_path_buf(),
            stop_wait,
        })
    }

    /// How the supervisor exited, if it has.
    pub fn exited(&mut self) -> std::io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// The last `lines` of each named log in the directory, for an error.
    pub fn log_tail(&self, names: &[&str], lines: usize) -> String {
        let mut out = String::new();
        for name in names {
            let text = fs::read_to_string(self.dir.join(name)).unwrap_or_default();
            let all: Vec<&str> = text.lines().collect();
            let tail = &all[all.len().saturating_sub(lines)..];
            out.push_str(&format!("--- {name}\n{}\n", tail.join("\n")));
        }
        out
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        // EOF on the pipe makes the supervisor stop its children, then exit.
        drop(self.lifeline.take());
        let deadline = Instant::now() + self.stop_wait;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        // The supervisor is stuck: kill its whole process group.
        let _ = Command::new("bash")
            .args(["-c", "kill -KILL -- \"-$0\"", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}
