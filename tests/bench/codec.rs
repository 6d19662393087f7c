//! Native codec throughput: `cargo bench --bench codec` (part of `cargo xtask bench`).
//!
//! Decoding feeds a stream of back-to-back packets to the streaming decoder in 64 KiB chunks,
//! as a socket or WebSocket delivers them; encoding writes into a reused buffer. Each figure is
//! the best of several rounds; the machine is shared, so compare ratios, not absolutes.

use std::hint::black_box;
use std::time::{Duration, Instant};

use wasmqtt::codec::{
    Connect, Decoder, Packet, PropertyValues, ProtocolVersion, Publish, QoS, Will,
};

fn publish(payload: usize, v: ProtocolVersion) -> Packet {
    let mut p = Publish::new("sensors/device-42/temperature", vec![0x5a; payload]);
    p.qos = QoS::AtLeastOnce;
    p.packet_id = 42;
    if v.is_v5() {
        p.properties.content_type = Some("application/json".into());
    }
    Packet::Publish(p)
}

fn connect_v5() -> Packet {
    let props = PropertyValues {
        session_expiry_interval: Some(3600),
        receive_maximum: Some(100),
        maximum_packet_size: Some(1 << 20),
        topic_alias_maximum: Some(16),
        request_problem_information: Some(true),
        user_properties: vec![("app".into(), "dashboard".into())],
        ..PropertyValues::default()
    };
    let will_props = PropertyValues {
        will_delay_interval: Some(5),
        content_type: Some("text/plain".into()),
        ..PropertyValues::default()
    };
    Packet::Connect(Box::new(Connect {
        protocol: ProtocolVersion::V5,
        clean_start: false,
        keep_alive: 30,
        client_id: "dashboard-7f3a9c".into(),
        will: Some(Will {
            topic: "devices/dashboard-7f3a9c/status".into(),
            payload: "offline".into(),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: will_props.into(),
        }),
        username: Some("operator".into()),
        password: Some("secret-token".into()),
        properties: props.into(),
    }))
}

fn best_of(rounds: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..rounds).map(|_| f()).min().unwrap_or_default()
}

fn bench(name: &str, packet: &Packet, v: ProtocolVersion) {
    let one = packet.to_bytes(v).expect("valid packet");
    let count = (32 << 20) / one.len().max(1);
    let mut stream = Vec::with_capacity(one.len() * count);
    for _ in 0..count {
        stream.extend_from_slice(&one);
    }
    let decode = best_of(5, || {
        let mut d = Decoder::new(v);
        let start = Instant::now();
        let mut n = 0;
        for chunk in stream.chunks(64 * 1024) {
            d.push(chunk);
            while let Some(p) = d.decode().expect("valid stream") {
                black_box(&p);
                n += 1;
            }
        }
        assert_eq!(n, count);
        start.elapsed()
    });
    let mut out = Vec::with_capacity(stream.len());
    let encode = best_of(5, || {
        out.clear();
        let start = Instant::now();
        for _ in 0..count {
            black_box(packet).encode(v, &mut out).expect("valid packet");
        }
        black_box(&out);
        start.elapsed()
    });
    let mbs = |d: Duration| stream.len() as f64 / d.as_secs_f64() / 1e6;
    let pps = |d: Duration| count as f64 / d.as_secs_f64() / 1e6;
    println!(
        "{name:<42} {:>5} B  decode {:>8.0} MB/s {:>7.2} M packets/s   encode {:>7.0} MB/s {:>6.2} M packets/s",
        one.len(),
        mbs(decode),
        pps(decode),
        mbs(encode),
        pps(encode),
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would pass nothing useful to us.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("wasmqtt native codec (best of 5 rounds, 32 MiB of packets each)");
    let v4 = ProtocolVersion::V3_1_1;
    let v5 = ProtocolVersion::V5;
    let topic = 2 + "sensors/device-42/temperature".len() + 2;
    bench(
        "PUBLISH QoS 1, 64 B, 3.1.1",
        &publish(64 - 2 - topic, v4),
        v4,
    );
    bench(
        "PUBLISH QoS 1, 1 KB, 3.1.1",
        &publish(1024 - 3 - topic, v4),
        v4,
    );
    bench(
        "PUBLISH QoS 1, 1 KB, 5.0 (+content type)",
        &publish(1024 - 3 - topic - 20, v5),
        v5,
    );
    bench("CONNECT 5.0 (properties, will)", &connect_v5(), v5);
}
