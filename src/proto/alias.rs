//! MQTT 5 topic aliases, one table each way, both reset with every connection [MQTT-3.3.2-7].

use crate::codec::{ByteStr, ReasonCode};

/// At most this many aliases are assigned toward a server, whatever it allows: the first topics
/// published get them, and looking one up stays a short scan.
pub const MAX_OUT_ALIASES: u16 = 64;

/// Aliases we assign to topics we publish to, within the server's Topic Alias Maximum.
// Design: first come, first served: the first distinct topics get an alias and keep it for the
// connection. Dashboards publish to a few command topics, devices to a few telemetry topics;
// reassigning aliases would save little and cost a full topic resend each time. A short vector
// (alias = index + 1) is smaller and, at this size, as fast as a hash map.
#[derive(Debug, Clone, Default)]
pub struct OutAliases {
    max: u16,
    topics: Vec<ByteStr>,
}

impl OutAliases {
    /// A table for a server accepting aliases up to `max` (0: none) [MQTT-3.2.2-17, -18].
    pub fn new(max: u16) -> Self {
        OutAliases {
            max: max.min(MAX_OUT_ALIASES),
            topics: Vec::new(),
        }
    }

    /// The alias to use for `topic`, and whether the topic must still be sent with it (the first
    /// time); None when no alias is available. Nothing is recorded: a new alias exists only
    /// once [`OutAliases::define`] says the PUBLISH defining it was sent.
    pub fn lookup(&self, topic: &ByteStr) -> Option<(u16, bool)> {
        if let Some(i) = self.topics.iter().position(|t| t == topic) {
            return Some((i as u16 + 1, false));
        }
        if self.topics.len() >= usize::from(self.max) {
            return None;
        }
        Some((self.topics.len() as u16 + 1, true))
    }

    /// Records the alias [`OutAliases::lookup`] gave for `topic` as defined: the PUBLISH
    /// carrying both went out [MQTT-3.3.2-12].
    pub fn define(&mut self, topic: &ByteStr) {
        if !self.topics.contains(topic) && self.topics.len() < usize::from(self.max) {
            self.topics.push(topic.clone());
        }
    }
}

/// Aliases the server defines toward us, up to our Topic Alias Maximum.
#[derive(Debug, Clone, Default)]
pub struct InAliases {
    max: u16,
    /// Index `alias - 1`; grown on demand, never beyond `max`.
    topics: Vec<Option<ByteStr>>,
}

impl InAliases {
    /// A table accepting aliases up to `max` [MQTT-3.3.2-10].
    pub fn new(max: u16) -> Self {
        InAliases {
            max,
            topics: Vec::new(),
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
                text!(
                    "topic alias ",
                    a,
                    " is outside 1..=",
                    self.max,
                    " that we accept"
                ),
            ));
        }
        let i = usize::from(a - 1);
        if topic.is_empty() {
            return self.topics.get(i).cloned().flatten().ok_or_else(|| {
                (
                    ReasonCode::ProtocolError,
                    text!("topic alias ", a, " was used before the server defined it"),
                )
            });
        }
        if self.topics.len() <= i {
            self.topics.resize(i + 1, None);
        }
        // A copy: the received topic is a slice of the whole frame, which it would keep alive
        // for as long as the alias lives.
        self.topics[i] = Some(ByteStr::from(topic.as_str()));
        Ok(topic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn an_alias_keeps_a_copy_of_its_topic() {
        // Defect 3 of the reliability issue: the alias table kept a slice of the receive
        // buffer, so one alias kept a whole (possibly large) frame alive for the connection.
        let frame = Bytes::from(vec![b't'; 1 << 16]);
        let topic = ByteStr::from_utf8_bytes(frame.slice(0..8)).ok().unwrap();
        let mut a = InAliases::new(4);
        a.resolve(topic, Some(1)).unwrap();
        let again = a.resolve(ByteStr::new(), Some(1)).unwrap();
        let (p, s) = (again.as_bytes().as_ptr() as usize, frame.as_ptr() as usize);
        assert!(
            !(s..s + frame.len()).contains(&p),
            "the alias table pins the frame"
        );
    }
}
