//! A real mosquitto on loopback, started and stopped by the test (restarted, frozen, thawed).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

// Held while a process is spawned and while `free_port` probes: a child holds a copy of every
// descriptor of this process from fork until exec (all are close-on-exec), and a probe socket
// copied in that window stays listening after the probe drops it (seen in xtask's tests: a port
// given was not free). `Command::spawn` returns only after the exec.
static FORKING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `c.spawn()`, never while `free_port` probes.
fn spawn(c: &mut Command) -> std::io::Result<Child> {
    let _forking = FORKING.lock().unwrap_or_else(|e| e.into_inner());
    c.spawn()
}

/// Runs `c` to its end; whether it succeeded is the caller's to ignore.
fn run(c: &mut Command) {
    if let Ok(mut child) = spawn(c) {
        let _ = child.wait();
    }
}

/// A port free now and never handed out before in this process. The tests of one binary run in
/// parallel threads and a broker binds its port only after it starts: without the record, the
/// kernel could give a port just released here to another test's broker in the meantime, and two
/// brokers would race for it (seen once: a client's connection reset by a broker that was not
/// its own).
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let _forking = FORKING.lock().unwrap_or_else(|e| e.into_inner());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

pub struct Mosquitto {
    child: Option<Child>,
    pub port: u16,
    pub ws_port: u16,
    dir: PathBuf,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn binary() -> &'static str {
    if std::path::Path::new("/usr/sbin/mosquitto").exists() {
        "/usr/sbin/mosquitto"
    } else {
        "mosquitto"
    }
}

impl Mosquitto {
    /// Starts a broker with persistence in a fresh directory, TCP and WebSocket listeners on
    /// 127.0.0.1, `$SYS` every second. `extra` lines are appended to the configuration.
    pub fn start(extra: &str) -> Mosquitto {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("wasmqtt-mosquitto-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // Run as root, mosquitto drops to its own user: it must be able to write here.
        run(Command::new("chmod").arg("777").arg(&dir));
        let mut m = Mosquitto {
            child: None,
            port: free_port(),
            ws_port: free_port(),
            dir,
        };
        let conf = format!(
            "per_listener_settings false\nallow_anonymous true\nlog_dest stderr\n\
             persistence true\npersistence_location {dir}/\nautosave_interval 0\n\
             sys_interval 1\n\
             listener {port} 127.0.0.1\nprotocol mqtt\n\
             listener {ws} 127.0.0.1\nprotocol websockets\nsocket_domain ipv4\n{extra}\n",
            dir = m.dir.display(),
            port = m.port,
            ws = m.ws_port,
        );
        std::fs::write(m.dir.join("mosquitto.conf"), conf).unwrap();
        m.spawn();
        m
    }

    fn spawn(&mut self) {
        // Appended: a restart keeps the log of the first run.
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("mosquitto.log"))
            .unwrap();
        let child = spawn(
            Command::new(binary())
                .arg("-c")
                .arg(self.dir.join("mosquitto.conf"))
                .stdout(Stdio::null())
                .stderr(log),
        )
        .expect("cannot start mosquitto (apt-get install mosquitto; `cargo xtask test` does it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto did not start: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("mosquitto.log")).unwrap_or_default()
    }

    fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            // A positive pid after `--`: never parsed as an option (see xtask's Service).
            run(Command::new("kill").args(["-s", sig, "--", &c.id().to_string()]));
        }
    }

    /// Stops gracefully (SIGTERM: sessions and queued messages are saved) and waits.
    pub fn stop(&mut self) {
        self.signal("TERM");
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }

    /// Stops and starts again on the same ports with the same persistence.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Freezes the process (SIGSTOP): sockets stay open, nothing answers.
    pub fn freeze(&self) {
        self.signal("STOP");
    }

    pub fn thaw(&self) {
        self.signal("CONT");
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.thaw();
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
