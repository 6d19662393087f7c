//! Stored sessions from storage: corrupt, truncated, from older versions or hostile. Importing
//! must never panic; what imports must export and import again to the same session, and a
//! client holding it must connect and resume without breaking its bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmqtt::codec::*;
use wasmqtt::proto::*;

fuzz_target!(|data: &[u8]| {
    let now = Instant::from_millis(5_000_000);
    let wall = 1_700_000_000_000;
    let Ok(s) = Session::import(data, now, wall) else {
        return;
    };
    let again = s.export(now, wall);
    let s2 = Session::import(&again, now, wall).expect("an exported session imports");
    assert_eq!(s2.export(now, wall), again, "export/import is not stable");

    let mut cfg = Config::new("ws://127.0.0.1:1/mqtt");
    cfg.protocol = ProtocolVersion::V5;
    cfg.client_id = "fuzz".into();
    cfg.clean_start = false;
    cfg.session_expiry_interval = Some(60);
    let mut c = Client::new(cfg);
    if c.import_session(data, now, wall).is_err() {
        return;
    }
    c.start(now);
    for _ in 0..4 {
        while c.poll_transmit(now).is_some() {}
        while let Some(a) = c.poll_transport() {
            if matches!(a, TransportAction::Open(_)) {
                c.handle_open(now);
                let ack = ConnAck {
                    session_present: true,
                    ..ConnAck::default()
                };
                let bytes = Packet::ConnAck(ack).to_bytes(ProtocolVersion::V5).unwrap();
                c.handle_bytes(now, &bytes);
            }
        }
        while c.poll_event().is_some() {}
    }
});
