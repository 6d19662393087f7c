//! The faulty link between the client and the model broker: bytes split and joined at
//! random, delayed (in order), cut at any byte, or silently lost (a half-open connection).

use std::collections::VecDeque;
use std::time::Duration;

use wasmqtt::proto::{Instant, Rng};

use crate::Below;

/// One direction of a connection: chunks in flight with the time each arrives.
#[derive(Debug, Default)]
pub struct Pipe {
    chunks: VecDeque<(Instant, Vec<u8>)>,
}

impl Pipe {
    /// Queues `bytes`, split at random points, each piece arriving after a random delay but
    /// never before the piece ahead of it (a stream keeps order).
    pub fn push(&mut self, rng: &mut Rng, now: Instant, max_delay_ms: u64, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let n = match rng.below(3) {
                0 => bytes.len(),
                _ => 1 + rng.below(bytes.len() as u64) as usize,
            };
            let at = now + Duration::from_millis(rng.below(max_delay_ms));
            let at = self.chunks.back().map_or(at, |(last, _)| at.max(*last));
            // Pieces arriving together are joined, as a socket read would.
            match self.chunks.back_mut() {
                Some((last, data)) if *last == at && rng.below(2) == 0 => {
                    data.extend_from_slice(&bytes[..n])
                }
                _ => self.chunks.push_back((at, bytes[..n].to_vec())),
            }
            bytes = &bytes[n..];
        }
    }

    /// The next piece due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.chunks.front().is_some_and(|(at, _)| *at <= now) {
            return self.chunks.pop_front().map(|(_, d)| d);
        }
        None
    }

    /// When the next piece arrives.
    pub fn next_at(&self) -> Option<Instant> {
        self.chunks.front().map(|(at, _)| *at)
    }

    /// Everything still in flight, at once (a close delivers what was sent before it).
    pub fn drain_all(&mut self) -> Vec<u8> {
        self.chunks.drain(..).flat_map(|(_, d)| d).collect()
    }

    /// A random prefix of what is in flight (the connection is cut at any byte).
    pub fn cut(&mut self, rng: &mut Rng) -> Vec<u8> {
        let all = self.drain_all();
        let keep = rng.below(all.len() as u64 + 1) as usize;
        all[..keep].to_vec()
    }
}

/// A connection between the client and the broker.
// Design: the link owns only bytes and timing; the world decides what happens at each end, so
// every fault is one of a few operations on two pipes.
#[derive(Debug, Default)]
pub struct Link {
    pub to_broker: Pipe,
    pub to_client: Pipe,
    /// Half-open: everything sent from now on is lost, and neither end is told.
    pub silent: bool,
    /// The client's end was closed (the broker may not know yet, if the link is silent).
    pub client_closed: bool,
}
