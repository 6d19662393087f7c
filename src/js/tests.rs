//! The tape carries every field: walking a decoded packet and reading it back as JavaScript
//! would write it gives the same packet.

use super::tape::{self, key, packet_from_tape, Sink};
use crate::codec::tests::arbitrary::Rng;
use crate::codec::{Decoder, ProtocolVersion};

/// Rewrites the decode tape into the encode tape, as the package's JavaScript does.
struct Rewrite(Vec<u8>);

impl Rewrite {
    fn key(&mut self, k: u32) {
        self.0.extend_from_slice(&(k as u16).to_le_bytes());
    }
}

impl Sink for Rewrite {
    fn header(&mut self, first: u8, _rl: u32) {
        for (k, v) in [
            (key::CMD, first >> 4),
            (key::QOS, (first >> 1) & 3),
            (key::DUP, (first >> 3) & 1),
            (key::RETAIN, first & 1),
        ] {
            self.int(k, v.into());
        }
    }
    fn int(&mut self, k: u32, v: u32) {
        self.key(k);
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, k: u32, b: &[u8]) {
        self.key(k);
        self.0.extend_from_slice(&(b.len() as u32).to_le_bytes());
        self.0.extend_from_slice(b);
    }
}

#[test]
fn every_field_crosses_the_tape_both_ways() {
    for seed in 0..5000u64 {
        for v in [
            ProtocolVersion::V3_1,
            ProtocolVersion::V3_1_1,
            ProtocolVersion::V5,
        ] {
            let p = Rng(seed).packet(v);
            let bytes = p.to_bytes(v).unwrap();
            let mut d = Decoder::new(v);
            d.push(&bytes);
            let frame = d.decode_frame().unwrap().unwrap();
            let mut w = Rewrite(Vec::new());
            tape::walk(&frame, v, &mut w);
            let back =
                packet_from_tape(w.0.into(), v).unwrap_or_else(|e| panic!("{e:?} for {p:?}"));
            assert_eq!(back, p, "seed {seed} {v:?}");
        }
    }
}

#[test]
fn malformed_tapes_are_errors_not_panics() {
    let mut rng = Rng(7);
    for _ in 0..20_000 {
        let n = rng.below(40) as usize;
        let mut t: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        if rng.chance(2) && t.len() >= 6 {
            t[..6].copy_from_slice(&[key::CMD as u8, 0, 3, 0, 0, 0]);
        }
        let _ = packet_from_tape(t.into(), ProtocolVersion::V5);
    }
    assert!(packet_from_tape(Vec::new().into(), ProtocolVersion::V5).is_err());
}

#[test]
fn operation_ids_cross_whole_beyond_2_pow_32() {
    // Defect 7 of the reliability issue: ids went to JavaScript whole (as numbers) and came
    // back in events cut to 32 bits, so after 2^32 operations no callback fired.
    for id in [
        1u64,
        u64::from(u32::MAX),
        u64::from(u32::MAX) + 8,
        (1 << 53) - 1,
    ] {
        let (lo, hi) = tape::split_id(id);
        // What client.js computes from the event's two words:
        let read = f64::from(lo) + f64::from(hi) * 4_294_967_296.0;
        assert_eq!(read, id as f64, "{id}");
    }
}

#[test]
fn the_topic_cache_keeps_copies() {
    // Defect 3 of the reliability issue: cached topics were slices of the receive buffer.
    let frame = bytes::Bytes::from(vec![b'a'; 1 << 16]);
    let topic = crate::codec::ByteStr::from_utf8_bytes(frame.slice(0..10))
        .ok()
        .unwrap();
    let mut cache = tape::TopicCache::default();
    let mut words = Vec::new();
    cache.write(&topic, &mut words);
    let kept = cache.kept().next().unwrap().as_bytes().as_ptr() as usize;
    let start = frame.as_ptr() as usize;
    assert!(
        !(start..start + frame.len()).contains(&kept),
        "the cache pins the frame"
    );
}
