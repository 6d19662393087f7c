//! A tiny blocking TCP driver for the client core, for tests against real brokers. The core does
//! not care what carries its bytes: this is the whole of a driver (the browser's is the same
//! loop over a WebSocket and a timer).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::Duration;

use wasmqtt::proto::*;

pub struct TcpDriver {
    pub client: Client,
    stream: Option<TcpStream>,
    start: std::time::Instant,
    pub events: Vec<Event>,
}

impl TcpDriver {
    pub fn new(cfg: Config) -> TcpDriver {
        TcpDriver {
            client: Client::new(cfg),
            stream: None,
            start: std::time::Instant::now(),
            events: Vec::new(),
        }
    }

    pub fn now(&self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros() as u64)
    }

    /// Drains the client's outputs (transmit, transport, events).
    fn drain(&mut self) {
        loop {
            let now = self.now();
            let mut progress = false;
            while let Some(bytes) = self.client.poll_transmit(now) {
                progress = true;
                if let Some(s) = &mut self.stream {
                    if s.write_all(&bytes).is_err() {
                        self.close(Some("write failed".into()));
                        break;
                    }
                }
            }
            while let Some(a) = self.client.poll_transport() {
                progress = true;
                match a {
                    TransportAction::Open(url) => self.open(&url),
                    TransportAction::Close => self.close(None),
                }
            }
            while let Some(e) = self.client.poll_event() {
                progress = true;
                self.events.push(e);
            }
            if !progress {
                return;
            }
        }
    }

    fn open(&mut self, url: &str) {
        let addr = url.strip_prefix("tcp://").unwrap_or(url);
        let now = self.now();
        let result = addr
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| std::io::Error::new(ErrorKind::InvalidInput, "bad address"))
            .and_then(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)));
        match result {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                self.stream = Some(s);
                self.client.handle_open(now);
            }
            Err(e) => self.client.handle_close(now, Some(e.to_string())),
        }
    }

    fn close(&mut self, detail: Option<String>) {
        if let Some(s) = self.stream.take() {
            let _ = s.shutdown(Shutdown::Both);
            let now = self.now();
            self.client.handle_close(now, detail);
        }
    }

    /// Runs the client for `d` of real time.
    pub fn pump(&mut self, d: Duration) {
        let end = std::time::Instant::now() + d;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            self.drain();
            let now_real = std::time::Instant::now();
            if now_real >= end {
                return;
            }
            let now = self.now();
            let mut wait = end - now_real;
            if let Some(at) = self.client.poll_timeout() {
                wait = wait.min(Duration::from_micros(
                    at.as_micros().saturating_sub(now.as_micros()),
                ));
            }
            let wait = wait
                .max(Duration::from_millis(1))
                .min(Duration::from_millis(50));
            match &mut self.stream {
                Some(s) => {
                    let _ = s.set_read_timeout(Some(wait));
                    match s.read(&mut buf) {
                        Ok(0) => self.close(Some("closed by the peer".into())),
                        Ok(n) => {
                            let now = self.now();
                            self.client.handle_bytes(now, &buf[..n]);
                        }
                        Err(e)
                            if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                        Err(e) => self.close(Some(e.to_string())),
                    }
                }
                None => std::thread::sleep(wait),
            }
            let now = self.now();
            self.client.handle_timeout(now);
        }
    }

    /// Runs until `pred` holds for an event (returned, and removed) or `timeout` passes.
    pub fn until<T>(
        &mut self,
        timeout: Duration,
        mut pred: impl FnMut(&Event) -> Option<T>,
    ) -> Option<T> {
        let end = std::time::Instant::now() + timeout;
        loop {
            if let Some(i) = self.events.iter().position(|e| pred(e).is_some()) {
                let e = self.events.remove(i);
                return pred(&e);
            }
            if std::time::Instant::now() >= end {
                return None;
            }
            self.pump(Duration::from_millis(20));
        }
    }

    /// Starts the client and waits for CONNACK.
    pub fn connect(&mut self, timeout: Duration) -> Box<ServerInfo> {
        let now = self.now();
        self.client.start(now);
        self.until(timeout, |e| match e {
            Event::Connected(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("did not connect: {:?}", self.events))
    }

    /// Kills the TCP connection without DISCONNECT (abrupt loss, as a crash or a cable pull).
    pub fn kill_socket(&mut self) {
        if let Some(s) = self.stream.take() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}
