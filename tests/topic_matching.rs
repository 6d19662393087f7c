//! The topic matcher, exactly per section 4.7.

use wasmqtt::proto::matches;

#[test]
fn single_level_wildcard_matches_exactly_one_level() {
    // [MQTT-4.7.1-2] (5.0 numbering): '+' occupies and matches one whole level.
    assert!(matches("sport/+", "sport/tennis"));
    assert!(!matches("sport/+", "sport/tennis/player1"));
    assert!(matches("sport/+", "sport/"), "an empty level is a level");
    assert!(!matches("sport/+", "sport"));
    assert!(matches("+/+", "/finance"));
    assert!(matches("/+", "/finance"));
    assert!(!matches("+", "/finance"));
    assert!(matches("+/tennis/#", "sport/tennis/player1/ranking"));
}

#[test]
fn multi_level_wildcard_matches_the_parent_and_everything_below() {
    // [MQTT-4.7.1-1]
    assert!(matches("sport/tennis/player1/#", "sport/tennis/player1"));
    assert!(matches(
        "sport/tennis/player1/#",
        "sport/tennis/player1/ranking"
    ));
    assert!(matches(
        "sport/tennis/player1/#",
        "sport/tennis/player1/score/wimbledon"
    ));
    assert!(matches("sport/#", "sport"));
    assert!(matches("#", "a/b/c"));
    assert!(matches("#", "/"));
    assert!(!matches("sport/tennis/#", "sport/football"));
}

#[test]
fn levels_are_compared_exactly() {
    // [MQTT-4.7.3-4]: no normalisation; case and empty levels matter.
    assert!(matches("a/b", "a/b"));
    assert!(!matches("a/b", "A/b"));
    assert!(!matches("a/b", "a/b/"));
    assert!(!matches("a//b", "a/b"));
    assert!(matches("a//b", "a//b"));
    assert!(!matches("a", "ab"));
}

#[test]
fn dollar_topics_are_not_matched_by_a_leading_wildcard() {
    // [MQTT-4.7.2-1]
    assert!(!matches("#", "$SYS/broker/uptime"));
    assert!(!matches("+/monitor/Clients", "$SYS/monitor/Clients"));
    assert!(matches("$SYS/#", "$SYS/broker/uptime"));
    assert!(matches("$SYS/monitor/+", "$SYS/monitor/Clients"));
    assert!(matches("a/#", "a/$b"));
}

#[test]
fn shared_subscriptions_match_on_their_filter() {
    // [MQTT-4.8.2-1], [MQTT-4.8.2-2]
    assert!(matches("$share/group/sensors/+", "sensors/7"));
    assert!(!matches("$share/group/sensors/+", "$share/group/sensors/7"));
    assert!(matches("$share/g/#", "a/b"));
}
