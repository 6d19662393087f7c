//! Connection settings and saved profiles. Profiles are JSON in localStorage; a password is only
//! saved when the user asks for it.

use serde::{Deserialize, Serialize};

use super::json::Json;
use crate::codec::{ProtocolVersion, QoS, Will};
use crate::proto::Config;

/// The broker the dashboard connects to when nothing else is said: the dev tool's embedded
/// broker (`cargo xtask dev`).
pub const DEFAULT_BROKER: &str = "ws://127.0.0.1:9001/mqtt";

/// What the connection form holds. Saved as JSON with camelCase keys; a missing key takes its
/// default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// Profile name.
    pub name: String,
    /// `ws://` or `wss://` URL; several, separated by commas or spaces, make a failover list
    /// (tried in order when one fails: the nodes of a cluster).
    pub url: String,
    /// 4 (3.1.1) or 5.
    pub protocol: u8,
    /// Client id; empty: a random one.
    pub client_id: String,
    /// User name.
    pub username: String,
    /// Password (kept in memory; saved only with `save_password`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub password: String,
    /// Save the password with the profile.
    pub save_password: bool,
    /// Keep-alive, seconds.
    pub keep_alive: u16,
    /// Clean start / clean session.
    pub clean: bool,
    /// MQTT 5 session expiry, seconds.
    pub session_expiry: u32,
    /// Will topic; empty: no will.
    pub will_topic: String,
    /// Will payload.
    pub will_payload: String,
    /// Will QoS.
    #[serde(rename = "willQos")]
    pub will_qos: u8,
    /// Will retained.
    pub will_retain: bool,
    /// Filters subscribed on connecting (QoS 0..2 each).
    pub subscriptions: Vec<(String, u8)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            name: "Local fleet".into(),
            url: DEFAULT_BROKER.into(),
            protocol: 5,
            client_id: String::new(),
            username: String::new(),
            password: String::new(),
            save_password: false,
            keep_alive: 20,
            clean: true,
            session_expiry: 0,
            will_topic: String::new(),
            will_payload: String::new(),
            will_qos: 0,
            will_retain: false,
            subscriptions: vec![("devices/#".into(), 0)],
        }
    }
}

impl Settings {
    /// The client configuration, or what is wrong with the form.
    pub fn config(&self, random_id: &str, seed: u64) -> Result<Config, String> {
        let urls = self.urls();
        if urls.is_empty() {
            return Err("give the broker's URL: ws://host:port/path or wss://...".into());
        }
        for url in &urls {
            if !(url.starts_with("ws://") || url.starts_with("wss://")) {
                return Err(format!(
                    "the broker URL must start with ws:// or wss:// (browsers speak MQTT over WebSocket), not {url:?}"
                ));
            }
        }
        let mut cfg = Config::new(urls[0].clone());
        cfg.urls = urls;
        cfg.protocol = match self.protocol {
            5 => ProtocolVersion::V5,
            4 => ProtocolVersion::V3_1_1,
            3 => ProtocolVersion::V3_1,
            p => return Err(format!("unknown protocol version {p}")),
        };
        cfg.client_id = if self.client_id.trim().is_empty() {
            random_id.to_string()
        } else {
            self.client_id.trim().to_string()
        };
        cfg.keep_alive = self.keep_alive;
        cfg.clean_start = self.clean;
        if !self.username.is_empty() {
            cfg.username = Some(self.username.clone());
        }
        if !self.password.is_empty() {
            cfg.password = Some(self.password.clone().into_bytes().into());
        }
        if cfg.protocol.is_v5() && self.session_expiry > 0 {
            cfg.session_expiry_interval = Some(self.session_expiry);
        }
        if !self.will_topic.trim().is_empty() {
            cfg.will = Some(Will {
                topic: self.will_topic.trim().into(),
                payload: self.will_payload.clone().into_bytes().into(),
                qos: QoS::from_u8(self.will_qos).ok_or("the will QoS must be 0, 1 or 2")?,
                retain: self.will_retain,
                properties: Default::default(),
            });
        }
        cfg.seed = seed;
        Ok(cfg)
    }

    /// The broker URLs: the failover list, in order.
    pub fn urls(&self) -> Vec<String> {
        self.url
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The profile as JSON (the password only if `save_password`).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.saved()).unwrap_or_default()
    }

    /// What is saved of these settings: the password only if asked.
    fn saved(&self) -> Settings {
        let mut s = self.clone();
        if !s.save_password {
            s.password.clear();
        }
        s
    }

    /// A profile from JSON; missing fields take their defaults. None if it is not a profile
    /// (not an object, or a field of the wrong type or out of range).
    pub fn from_json(text: &str) -> Option<Settings> {
        serde_json::from_str(text).ok()
    }
}

/// Saved profiles as one JSON array.
pub fn profiles_to_json(profiles: &[Settings]) -> String {
    let saved: Vec<Settings> = profiles.iter().map(Settings::saved).collect();
    serde_json::to_string(&saved).unwrap_or_default()
}

/// Saved profiles from their JSON (unreadable entries are skipped, the others kept).
pub fn profiles_from_json(text: &str) -> Vec<Settings> {
    let items: Vec<Json> = serde_json::from_str(text).unwrap_or_default();
    items
        .into_iter()
        .filter_map(|it| Settings::deserialize(it).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_saved_only_when_asked() {
        let mut s = Settings {
            password: "hunter2".into(),
            username: "op".into(),
            ..Default::default()
        };
        assert!(!s.to_json().contains("hunter2"));
        let back = Settings::from_json(&s.to_json()).unwrap();
        assert_eq!(back.password, "");
        assert_eq!(back.username, "op");
        s.save_password = true;
        assert_eq!(Settings::from_json(&s.to_json()).unwrap(), s);
    }

    #[test]
    fn profiles_round_trip() {
        let a = Settings::default();
        let b = Settings {
            name: "Prod \"eu\"".into(),
            url: "wss://broker.example/mqtt".into(),
            protocol: 4,
            subscriptions: vec![("a/#".into(), 1), ("b/+".into(), 2)],
            will_topic: "panels/x".into(),
            will_qos: 1,
            ..Default::default()
        };
        let text = profiles_to_json(&[a.clone(), b.clone()]);
        assert_eq!(profiles_from_json(&text), [a, b.clone()]);
        assert!(profiles_from_json("garbage").is_empty());
        // One broken entry does not lose the others.
        let text = format!("[{},{{\"keepAlive\":\"soon\"}},7]", b.to_json());
        assert_eq!(profiles_from_json(&text), [b]);
        // Profiles saved by earlier versions (every key written out) still read.
        let old = r#"{"name":"old","url":"ws://127.0.0.1:9001/mqtt","protocol":4,"clientId":"","username":"","savePassword":false,"keepAlive":30,"clean":true,"sessionExpiry":0,"willTopic":"","willPayload":"","willQos":0,"willRetain":false,"subscriptions":[["devices/#",0]]}"#;
        let s = Settings::from_json(old).unwrap();
        assert_eq!((s.protocol, s.keep_alive, s.name.as_str()), (4, 30, "old"));
    }

    #[test]
    fn the_form_becomes_a_config_or_says_what_is_wrong() {
        let s = Settings {
            will_topic: "panels/p/status".into(),
            will_payload: "offline".into(),
            will_qos: 1,
            session_expiry: 60,
            ..Default::default()
        };
        let cfg = s.config("dash-1", 7).unwrap();
        assert_eq!(cfg.client_id, "dash-1");
        assert_eq!(cfg.session_expiry_interval, Some(60));
        assert_eq!(cfg.will.unwrap().qos, QoS::AtLeastOnce);
        let bad = Settings {
            url: "mqtt://x:1883".into(),
            ..Default::default()
        };
        assert!(bad.config("x", 0).unwrap_err().contains("ws://"));
        // Several URLs: a failover list (the nodes of a cluster), tried in order.
        let cluster = Settings {
            url: " ws://127.0.0.1:9001/mqtt, ws://127.0.0.1:9002/mqtt ws://127.0.0.1:9003/mqtt "
                .into(),
            ..Default::default()
        };
        assert_eq!(
            cluster.config("x", 0).unwrap().urls,
            [
                "ws://127.0.0.1:9001/mqtt",
                "ws://127.0.0.1:9002/mqtt",
                "ws://127.0.0.1:9003/mqtt"
            ]
        );
        let one_bad = Settings {
            url: "ws://127.0.0.1:9001/mqtt, tcp://127.0.0.1:1883".into(),
            ..Default::default()
        };
        assert!(one_bad
            .config("x", 0)
            .unwrap_err()
            .contains("\"tcp://127.0.0.1:1883\""));
        assert!(Settings {
            url: " , ".into(),
            ..Default::default()
        }
        .config("x", 0)
        .is_err());
    }
}
