//! Drives one wasmqtt client core over a tokio TCP stream: the whole of a native driver. The core
//! decides everything (connect, keep-alive, acknowledgements, reconnect backoff); this only moves
//! bytes, opens and closes the socket, and tells the core the time.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wasmqtt::proto::{Client, Config, Event, Instant, TransportAction};

/// A client core and its socket.
// Design: the device logic (device.rs) calls the core directly and asks this for the next event;
// everything with a deadline goes through `poll_timeout`, so one `select!` over the socket and one
// sleep is the whole loop. Dropping a Link drops the socket without DISCONNECT: a crash.
pub struct Link {
    pub client: Client,
    stream: Option<TcpStream>,
    epoch: tokio::time::Instant,
    buf: Vec<u8>,
}

impl Link {
    pub fn new(cfg: Config, epoch: tokio::time::Instant) -> Link {
        Link {
            client: Client::new(cfg),
            stream: None,
            epoch,
            buf: vec![0; 16 * 1024],
        }
    }

    /// The core's clock: microseconds since the fleet started.
    pub fn now(&self) -> Instant {
        Instant::from_micros(self.epoch.elapsed().as_micros() as u64)
    }

    /// Moves the core's output: bytes to the socket, socket opens and closes. Returns its events.
    pub async fn flush(&mut self, events: &mut Vec<Event>) {
        loop {
            let now = self.now();
            let mut progress = false;
            while let Some(bytes) = self.client.poll_transmit(now) {
                progress = true;
                if let Some(s) = &mut self.stream {
                    if let Err(e) = s.write_all(&bytes).await {
                        self.stream = None;
                        let now = self.now();
                        self.client
                            .handle_close(now, Some(format!("write failed: {e}")));
                        break;
                    }
                }
            }
            while let Some(action) = self.client.poll_transport() {
                progress = true;
                match action {
                    TransportAction::Open(url) => self.open(&url).await,
                    TransportAction::Close => {
                        if let Some(mut s) = self.stream.take() {
                            let _ = s.shutdown().await;
                            let now = self.now();
                            self.client.handle_close(now, None);
                        }
                    }
                }
            }
            while let Some(e) = self.client.poll_event() {
                progress = true;
                events.push(e);
            }
            if !progress {
                return;
            }
        }
    }

    async fn open(&mut self, url: &str) {
        let addr = url.strip_prefix("tcp://").unwrap_or(url).to_string();
        let result =
            tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr.as_str())).await;
        let now = self.now();
        match result {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                self.stream = Some(s);
                self.client.handle_open(now);
            }
            Ok(Err(e)) => self
                .client
                .handle_close(now, Some(format!("connect {addr}: {e}"))),
            Err(_) => self
                .client
                .handle_close(now, Some(format!("connect {addr}: timed out"))),
        }
    }

    /// Waits for input until `until` (or the core's own deadline), feeds it to the core, and
    /// flushes. Returns when something happened or `until` passed.
    pub async fn step(&mut self, until: tokio::time::Instant, events: &mut Vec<Event>) {
        let now = self.now();
        let core_deadline = self
            .client
            .poll_timeout()
            .map(|at| self.epoch + Duration::from_micros(at.as_micros().max(now.as_micros())));
        let wake = core_deadline.map_or(until, |d| d.min(until));
        match &mut self.stream {
            Some(stream) => {
                tokio::select! {
                    r = stream.read(&mut self.buf) => {
                        let now = self.now();
                        match r {
                            Ok(0) => {
                                self.stream = None;
                                self.client.handle_close(now, Some("closed by the broker".into()));
                            }
                            Ok(n) => self.client.handle_bytes(now, &self.buf[..n]),
                            Err(e) => {
                                self.stream = None;
                                self.client.handle_close(now, Some(e.to_string()));
                            }
                        }
                    }
                    _ = tokio::time::sleep_until(wake) => {}
                }
            }
            None => tokio::time::sleep_until(wake).await,
        }
        let now = self.now();
        self.client.handle_timeout(now);
        self.flush(events).await;
    }
}
