//! MQTT 5 topic aliases, one table each way, both reset with every connection [MQTT-3.3.2-7].

use std::collections::HashMap;

use crate::codec::{ByteStr, ReasonCode};

/// Aliases we assign to topics we publish to, within the server's Topic Alias Maximum.
// Design: first come, first served: the first `max` distinct topics get an alias and keep it for
// the connection. Dashboards publish to a few command topics, devices to a few telemetry topics;
// reassigning aliases would save little and cost a full topic resend each time.
#[derive(Debug, Clone, Default)]
pub struct OutAliases {
    max: u16,
    topics: HashMap<ByteStr, u16>,
}

impl OutAliases {
    /// A table for a server accepting aliases up to `max` (0: none) [MQTT-3.2.2-17, -18].
    pub fn new(max: u16) -> Self {
        OutAliases {
            max,
            topics: HashMap::new(),
        }
    }

    /// The alias to use for `topic`, and whether the topic must still be sent with it (the first
    /// time); None when no alias is available.
    pub fn assign(&mut self, topic: &ByteStr) -> Option<(u16, bool)> {
        if let Some(&a) = self.topics.get(topic) {
            return Some((a, false));
        }
        let next = self.topics.len() as u16 + 1;
        if self.max == 0 || next > self.max {
            return None;
        }
        self.topics.insert(topic.clone(), next);
        Some((next, true))
    }
}

/// Aliases the server defines toward us, up to our Topic Alias Maximum.
#[derive(Debug, Clone, Default)]
pub struct InAliases {
    max: u16,
    topics: HashMap<u16, ByteStr>,
}

impl InAliases {
    /// A table accepting aliases up to `max` [MQTT-3.3.2-10].
    pub fn new(max: u16) -> Self {
        InAliases {
            max,
            topics: HashMap::new(),
        }
    }

    /// The topic of a received PUBLISH: `topic` itself, recording `alias` for it, or the topic
    /// `alias` stands for when `topic` is empty. Errors are the reason code for the DISCONNECT.
    pub fn resolve(
        &mut self,
        topic: ByteStr,
        alias: Option<u16>,
    ) -> Result<ByteStr, (ReasonCode, String)> {
        let Some(a) = alias else {
            return Ok(topic);
        };
        if a == 0 || a > self.max {
            return Err((
                ReasonCode::TopicAliasInvalid,
                format!("topic alias {a} is outside 1..={} that we accept", self.max),
            ));
        }
        if topic.is_empty() {
            return self.topics.get(&a).cloned().ok_or_else(|| {
                (
                    ReasonCode::ProtocolError,
                    format!("topic alias {a} was used before the server defined it"),
                )
            });
        }
        self.topics.insert(a, topic.clone());
        Ok(topic)
    }
}
