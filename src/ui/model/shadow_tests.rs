//! The shadow model's tests: version ordering, delta, answers, where a device stands, bounds.

use proptest::prelude::*;

use super::*;

fn shadows() -> Shadows {
    Shadows::new(ShadowConfig::default())
}

fn doc(version: u64, state: &str) -> Vec<u8> {
    format!("{{\"version\":{version},\"state\":{state}}}").into_bytes()
}

fn reported(s: &mut Shadows, id: &str, version: u64, state: &str, now: f64) -> bool {
    s.record(
        &format!("devices/{id}/shadow/reported"),
        &doc(version, state),
        now,
    )
}

fn state(text: &str) -> Map<String, Json> {
    read_desired(text).unwrap()
}

#[test]
fn a_newer_version_replaces_an_older_one_never_the_reverse() {
    let mut s = shadows();
    assert!(reported(
        &mut s,
        "d1",
        5,
        r#"{"firmware":"1.3.0","setpoint":20}"#,
        1.0
    ));
    // Out of order: version 4 arrives after 5 and is ignored, counted and noted.
    assert!(reported(&mut s, "d1", 4, r#"{"firmware":"1.2.0"}"#, 2.0));
    let sh = s.get("d1").unwrap();
    assert_eq!(sh.reported.as_ref().unwrap().version, 5);
    assert_eq!(sh.reported.as_ref().unwrap().state["firmware"], "1.3.0");
    assert_eq!(sh.ignored, 1);
    assert_eq!(
        sh.history.back().unwrap().1,
        Change::Stale {
            doc: "reported",
            version: 4,
            held: 5
        }
    );
    // The same version again (the retained copy on reconnecting) is a duplicate: not counted.
    reported(
        &mut s,
        "d1",
        5,
        r#"{"firmware":"1.3.0","setpoint":20}"#,
        3.0,
    );
    assert_eq!(s.get("d1").unwrap().ignored, 1);
    // A greater one replaces it, and the history says which keys changed.
    reported(
        &mut s,
        "d1",
        6,
        r#"{"firmware":"1.3.0","setpoint":22}"#,
        4.0,
    );
    let sh = s.get("d1").unwrap();
    assert_eq!(sh.reported.as_ref().unwrap().version, 6);
    assert_eq!(
        sh.history.back().unwrap().1,
        Change::Reported {
            version: 6,
            keys: vec!["setpoint".into()]
        }
    );
}

proptest! {
    /// Whatever order reports arrive in, the shown state is the greatest version's, and it
    /// never goes back while they arrive.
    #[test]
    fn the_shown_state_never_moves_backwards(order in Just((1u64..=20).collect::<Vec<_>>()).prop_shuffle(), dups in proptest::collection::vec(1u64..=20, 0..10)) {
        let mut s = shadows();
        let mut shown = 0;
        for (i, v) in order.iter().chain(&dups).enumerate() {
            reported(&mut s, "d", *v, &format!("{{\"n\":{v}}}"), i as f64);
            let r = s.get("d").unwrap().reported.as_ref().unwrap();
            prop_assert!(r.version >= shown);
            prop_assert_eq!(r.state["n"].as_u64(), Some(r.version));
            shown = r.version;
        }
        prop_assert_eq!(shown, 20);
    }
}

#[test]
fn the_delta_is_what_desired_asks_and_reported_does_not_have() {
    let d = state(
        r#"{"firmware":"1.4.0","setpoint":21,"net":{"apn":"x","mtu":1500},"mode":null,"interval_ms":1000}"#,
    );
    let r = state(
        r#"{"firmware":"1.3.0","setpoint":21.0,"net":{"apn":"x","mtu":1400},"mode":"eco","extra":1}"#,
    );
    assert_eq!(
        Json::Object(delta(&d, &r)).compact(),
        r#"{"firmware":"1.4.0","net":{"mtu":1500},"interval_ms":1000}"#
    );
    // 21 and 21.0 are the same number; a null desires nothing; a key only reported is no delta.
    assert!(delta(&state(r#"{"a":21}"#), &state(r#"{"a":21.0,"b":2}"#)).is_empty());
}

#[test]
fn where_a_device_stands() {
    let mut s = shadows();
    reported(&mut s, "d", 1, r#"{"firmware":"1.3.0","setpoint":20}"#, 0.0);
    assert_eq!(s.sync("d"), Sync::NoDesired);
    assert_eq!(s.sync("nobody"), Sync::NoDesired);
    let (topic, payload) = s
        .desire("d", state(r#"{"firmware":"1.4.0"}"#), 100.0)
        .unwrap();
    assert_eq!(topic, "devices/d/shadow/desired");
    assert_eq!(payload, r#"{"version":1,"state":{"firmware":"1.4.0"}}"#);
    assert_eq!(s.sync("d"), Sync::Pending);
    s.record("devices/d/shadow/accepted", br#"{"version":1}"#, 200.0);
    assert!(s.get("d").unwrap().pending.is_empty(), "answered");
    reported(
        &mut s,
        "d",
        2,
        r#"{"firmware":"1.3.0","ota":{"state":"downloading","progress":40,"target":"1.4.0"}}"#,
        300.0,
    );
    assert_eq!(s.sync("d"), Sync::Upgrading(40));
    reported(
        &mut s,
        "d",
        3,
        r#"{"firmware":"1.3.0","ota":{"state":"failed","reason":"checksum mismatch"}}"#,
        400.0,
    );
    assert_eq!(s.sync("d"), Sync::Failed("checksum mismatch".into()));
    // Set again (a retry): the old failure is not this version's until the device answers.
    s.desire("d", state(r#"{"firmware":"1.4.0"}"#), 500.0)
        .unwrap();
    assert_eq!(s.sync("d"), Sync::Pending);
    s.record("devices/d/shadow/accepted", br#"{"version":2}"#, 550.0);
    reported(
        &mut s,
        "d",
        4,
        r#"{"firmware":"1.4.0","ota":{"state":"done"}}"#,
        900.0,
    );
    assert_eq!(s.sync("d"), Sync::InSync);
    assert_eq!(s.get("d").unwrap().converged_in_ms(), Some(400.0));
    // A refusal of the desired version in force.
    s.desire("d", state(r#"{"firmware":"1.4.0","setpoint":99}"#), 1000.0)
        .unwrap();
    s.record(
        "devices/d/shadow/rejected",
        br#"{"version":3,"reason":"setpoint 99 out of 5..35"}"#,
        1100.0,
    );
    assert_eq!(
        s.sync("d"),
        Sync::Rejected("setpoint 99 out of 5..35".into())
    );
    // An answer older than the one held is ignored.
    s.record("devices/d/shadow/accepted", br#"{"version":2}"#, 1200.0);
    assert_eq!(
        s.sync("d"),
        Sync::Rejected("setpoint 99 out of 5..35".into())
    );
}

#[test]
fn our_own_desired_coming_back_is_a_duplicate_and_another_operators_is_newer() {
    let mut s = shadows();
    let (topic, payload) = s.desire("d", state(r#"{"setpoint":20}"#), 0.0).unwrap();
    assert!(s.record(&topic, payload.as_bytes(), 10.0));
    let sh = s.get("d").unwrap();
    assert_eq!((sh.desired.as_ref().unwrap().version, sh.ignored), (1, 0));
    // Another dashboard sets version 2: it is taken, and our next is 3.
    s.record(&topic, &doc(2, r#"{"setpoint":25}"#), 20.0);
    assert_eq!(
        s.get("d").unwrap().desired.as_ref().unwrap().state["setpoint"],
        25
    );
    let (_, next) = s
        .patch("d", &state(r#"{"interval_ms":500,"setpoint":null}"#), 30.0)
        .unwrap();
    assert_eq!(next, r#"{"version":3,"state":{"interval_ms":500}}"#);
}

#[test]
fn unanswered_updates_are_bounded_and_dropping_one_is_visible() {
    let mut s = Shadows::new(ShadowConfig {
        max_pending: 3,
        ..Default::default()
    });
    for i in 0..5 {
        s.desire("d", state(&format!("{{\"setpoint\":{i}}}")), f64::from(i))
            .unwrap();
    }
    let sh = s.get("d").unwrap();
    assert_eq!(
        sh.pending.iter().map(|p| p.0).collect::<Vec<_>>(),
        [3, 4, 5]
    );
    assert_eq!(sh.dropped, 2);
    assert!(sh.history.contains(&(4.0, Change::Dropped { version: 2 })));
    // An answer for version 4 settles 3 and 4.
    s.record("devices/d/shadow/accepted", br#"{"version":4}"#, 9.0);
    assert_eq!(
        s.get("d")
            .unwrap()
            .pending
            .iter()
            .map(|p| p.0)
            .collect::<Vec<_>>(),
        [5]
    );
}

#[test]
fn history_documents_and_devices_are_bounded() {
    let mut s = Shadows::new(ShadowConfig {
        max_history: 4,
        max_document: 64,
        max_devices: 2,
        ..Default::default()
    });
    for v in 1..=10 {
        reported(&mut s, "a", v, "{}", v as f64);
    }
    assert_eq!(s.get("a").unwrap().history.len(), 4);
    // Too large: refused and noted, the held document stays.
    let big = format!("{{\"blob\":\"{}\"}}", "x".repeat(100));
    reported(&mut s, "a", 11, &big, 11.0);
    let sh = s.get("a").unwrap();
    assert_eq!(sh.reported.as_ref().unwrap().version, 10);
    assert!(
        matches!(&sh.history.back().unwrap().1, Change::Invalid { why, .. } if why.contains("over the bound of 64"))
    );
    let e = s.desire("a", state(&big), 12.0).unwrap_err();
    assert!(e.contains("over the bound of 64"), "{e}");
    reported(&mut s, "b", 1, "{}", 0.0);
    assert!(!reported(&mut s, "c", 1, "{}", 0.0));
    assert_eq!((s.len(), s.refused), (2, 1));
    assert!(s
        .desire("c", Map::new(), 0.0)
        .unwrap_err()
        .contains("no room"));
}

#[test]
fn what_is_not_a_shadow_document_is_said_so() {
    let mut s = shadows();
    for (payload, why) in [
        (&b"{\"state\":{}}"[..], "no \"version\""),
        (b"{\"version\":-1,\"state\":{}}", "no \"version\""),
        (b"{\"version\":1,\"state\":[1]}", "no \"state\" object"),
        (b"{\"version\":1,", "not valid JSON"),
        (b"\xff", "not UTF-8"),
    ] {
        assert!(s.record("devices/d/shadow/reported", payload, 0.0));
        let last = &s.get("d").unwrap().history.back().unwrap().1;
        assert!(
            matches!(last, Change::Invalid { why: w, .. } if w.contains(why)),
            "{last:?}"
        );
    }
    // Other topics are not shadows; a cleared retained document is nothing to read.
    assert!(!s.record("devices/d/telemetry", b"{}", 0.0));
    assert!(!s.record("devices/e/shadow/desired", b"", 0.0));
    assert!(s.get("e").is_none());
    assert_eq!(
        read_desired("[1]").unwrap_err(),
        "the desired state must be a JSON object ({\"key\": value, ...}), not [1 items]"
    );
    assert!(read_desired("{\"a\":")
        .unwrap_err()
        .starts_with("not valid JSON"));
}

#[test]
fn the_convention_is_configurable() {
    let mut s = Shadows::new(ShadowConfig {
        reported: "things/{id}/state".into(),
        desired: "things/{id}/set".into(),
        ..Default::default()
    });
    assert!(reported_on(&mut s, "things/t1/state"));
    assert!(!reported_on(&mut s, "devices/t1/shadow/reported"));
    assert_eq!(
        s.config().filters()[..2],
        ["things/+/state", "things/+/set"]
    );
    assert_eq!(s.desire("t1", Map::new(), 0.0).unwrap().0, "things/t1/set");
}

#[test]
fn commands_and_their_answers_are_in_the_history() {
    let mut s = shadows();
    // Answers of a device without a shadow are not shadows' (the board has them).
    assert!(!s.record("devices/d/ack", br#"{"cmd":"reboot","ok":true}"#, 0.0));
    assert_eq!(s.command("d", "reboot", 1.0), "devices/d/cmd");
    assert!(s.record("devices/d/ack", br#"{"cmd":"reboot","ok":true}"#, 2.0));
    let long = "x".repeat(500);
    s.command("d", &long, 3.0);
    let h: Vec<&Change> = s.get("d").unwrap().history.iter().map(|(_, c)| c).collect();
    assert_eq!(
        h[0],
        &Change::Command {
            text: "reboot".into()
        }
    );
    assert_eq!(
        h[1],
        &Change::CommandAnswer {
            text: r#"{"cmd":"reboot","ok":true}"#.into()
        }
    );
    assert!(matches!(h[2], Change::Command { text } if text.chars().count() == MAX_NOTE + 1));
}

fn reported_on(s: &mut Shadows, topic: &str) -> bool {
    s.record(topic, &doc(1, "{}"), 0.0)
}

#[test]
fn the_history_keeps_what_this_page_set() {
    let mut s = shadows();
    reported(&mut s, "d", 1, r#"{"setpoint":20}"#, 0.0);
    s.desire("d", state(r#"{"setpoint":99}"#), 1.0).unwrap();
    s.record(
        "devices/d/shadow/rejected",
        br#"{"version":1,"reason":"no"}"#,
        2.0,
    );
    let h: Vec<String> = s
        .get("d")
        .unwrap()
        .history
        .iter()
        .map(|(_, c)| c.describe())
        .collect();
    assert_eq!(
        h,
        [
            "reported v1: setpoint",
            "desired v1 set here: setpoint",
            "rejected desired v1: no"
        ]
    );
}

proptest! {
    /// Whatever arrives on the shadow topics (any bytes, any order, any device), nothing panics
    /// and every bound holds.
    #[test]
    fn any_input_keeps_the_bounds(msgs in proptest::collection::vec(
        (0u8..5, 0u8..6, proptest::collection::vec(any::<u8>(), 0..80), 0u64..50, any::<bool>()),
        0..200,
    )) {
        let cfg = ShadowConfig { max_pending: 3, max_history: 5, max_document: 60, max_devices: 4, ..Default::default() };
        let mut s = Shadows::new(cfg.clone());
        for (i, (kind, dev, bytes, version, ours)) in msgs.into_iter().enumerate() {
            let id = format!("d{dev}");
            let now = i as f64;
            if ours {
                let _ = s.desire(&id, state(&format!("{{\"v\":{version}}}")), now);
                continue;
            }
            let topic = ["reported", "desired", "accepted", "rejected", "x"][kind as usize];
            // Half the time a well-formed document, else the raw bytes.
            let payload = if version % 2 == 0 { doc(version, "{\"a\":1}") } else { bytes };
            let _ = s.record(&format!("devices/{id}/shadow/{topic}"), &payload, now);
            let _ = s.sync(&id);
        }
        prop_assert!(s.len() <= cfg.max_devices);
        for (_, sh) in s.iter() {
            prop_assert!(sh.history.len() <= cfg.max_history);
            prop_assert!(sh.pending.len() <= cfg.max_pending);
            let _ = sh.delta();
        }
    }
}
