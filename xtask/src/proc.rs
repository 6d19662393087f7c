//! Running commands: echoed, checked, and background services killed when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub type Result<T = ()> = std::result::Result<T, String>;

/// The repository root (the parent of this crate).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the repository")
        .to_path_buf()
}

/// `program args...` run from the repository root.
pub fn cmd(program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args).current_dir(root());
    c
}

fn describe(c: &Command) -> String {
    let mut s = c.get_program().to_string_lossy().into_owned();
    for a in c.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

// Held while a process is spawned and while `free_port` probes. A child holds a copy of every
// descriptor of this process from fork until exec closes them (all are close-on-exec); a probe
// socket copied in that window stays listening after the probe drops it, and the port given
// is not free. `Command::spawn` returns only after the exec, so under this lock no child can
// hold a probe. Every spawn of this crate goes through `spawn`.
static FORKING: Mutex<()> = Mutex::new(());

fn forking() -> MutexGuard<'static, ()> {
    FORKING.lock().unwrap_or_else(|e| e.into_inner())
}

/// `c.spawn()`, never while `free_port` probes.
pub fn spawn(c: &mut Command) -> std::io::Result<Child> {
    let _forking = forking();
    c.spawn()
}

/// `c.output()` (stdin empty, stdout and stderr captured), spawned through `spawn`.
pub fn output_of(c: &mut Command) -> std::io::Result<Output> {
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    spawn(c)?.wait_with_output()
}

/// Runs to completion, inheriting stdio; an error names the command and its exit status.
pub fn run(c: &mut Command) -> Result {
    let what = describe(c);
    println!("$ {what}");
    let status = spawn(c)
        .and_then(|mut child| child.wait())
        .map_err(|e| format!("cannot start `{what}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{what}` failed ({status})"))
    }
}

/// Runs quietly and returns stdout, or None if it cannot run or fails.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = output_of(Command::new(program).args(args)).ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether `port` on 127.0.0.1 is free now (probed by binding it, never while a process spawns).
pub fn port_free(port: u16) -> bool {
    let _forking = forking();
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A free TCP port on 127.0.0.1, below the ephemeral range, never given twice by this process.
pub fn free_port() -> u16 {
    use std::collections::HashSet;
    use std::hash::{BuildHasher, RandomState};
    // Below the kernel's ephemeral range: a port from it (what binding port 0 gives) can be taken
    // again, before the service binds it, as the source port of an outgoing connection (a cluster
    // node dialing a peer that does not listen yet takes a new one on every retry). The ports
    // given are remembered so this process never gives one twice.
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let _forking = forking();
    const FIRST: u16 = 10_000;
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    let given = given.get_or_insert_with(HashSet::new);
    if low > FIRST + 1_000 {
        let seed = RandomState::new();
        for attempt in 0u32..10_000 {
            let port = FIRST + (seed.hash_one(attempt) % u64::from(low - FIRST)) as u16;
            if !given.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
                given.insert(port);
                return port;
            }
        }
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("cannot bind a loopback port");
    given.insert(port);
    port
}

/// Waits until something accepts connections on 127.0.0.1:`port`.
pub fn wait_for_port(port: u16, timeout: Duration) -> Result {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "nothing listens on 127.0.0.1:{port} after {timeout:?}"
    ))
}

/// A background process killed (with its process group) when dropped.
pub struct Service {
    name: String,
    child: Child,
}

impl Service {
    pub fn start(name: &str, c: &mut Command) -> Result<Service> {
        use std::os::unix::process::CommandExt;
        let what = describe(c);
        println!("$ {what} &");
        c.process_group(0);
        let child = spawn(c).map_err(|e| format!("cannot start {name} (`{what}`): {e}"))?;
        Ok(Service {
            name: name.to_string(),
            child,
        })
    }

    /// Fails if the process has already exited.
    pub fn check_alive(&mut self) -> Result {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(format!("{} exited early ({status})", self.name)),
            _ => Ok(()),
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let pgid = self.child.id();
        // Kill the whole group: wrappers such as /usr/bin/chromium leave children behind.
        // `--` is essential: procps' kill reads `kill -TERM -1234` as options and sends
        // SIGTERM to -1, every process on the machine.
        if pgid > 1 {
            let _ = Command::new("kill")
                .args(["-s", "TERM", "--", &format!("-{pgid}")])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // CI once failed with "node 3 exited (1) before it was ready": the port chosen for it had been
    // taken as the source port of another node's outgoing connection.
    //
    // CI failed again on this test's bind: another test of this binary (`csp::sri_of_a_file`)
    // spawned a process while `free_port` held its probe socket open, and the child's copy of it
    // (alive until exec closes it) kept the port listening after the probe was dropped. Here a
    // thread spawns processes all along, as that test did once.
    #[test]
    fn free_ports_are_distinct_bindable_and_below_the_ephemeral_range() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let low: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .unwrap_or(32_768);
        let done = Arc::new(AtomicBool::new(false));
        let spawner = {
            let done = done.clone();
            std::thread::spawn(move || {
                let mut spawned = 0u32;
                while !done.load(Ordering::Relaxed) {
                    output("true", &[]).expect("`true` runs");
                    spawned += 1;
                }
                spawned
            })
        };
        let mut seen = std::collections::HashSet::new();
        let mut taken = Vec::new();
        for _ in 0..3_000 {
            let port = free_port();
            assert!(
                port < low,
                "port {port} is in the ephemeral range from {low}"
            );
            assert!(seen.insert(port), "port {port} given twice");
            if TcpListener::bind(("127.0.0.1", port)).is_err() {
                taken.push(port);
            }
        }
        done.store(true, Ordering::Relaxed);
        assert!(
            spawner.join().unwrap() > 0,
            "no process was spawned meanwhile"
        );
        assert!(taken.is_empty(), "ports given but not free: {taken:?}");
    }
}
