//! The live message log: a ring buffer bounded in entries and in payload bytes, with a topic
//! filter kept up to date incrementally and a pause that freezes what is shown.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::codec::{ByteStr, QoS};
use crate::proto::matches;

/// One logged message.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// Position in the log since it started (never reused).
    pub seq: u64,
    /// Wall-clock time it arrived or was sent, ms since the Unix epoch.
    pub at_ms: f64,
    /// Topic.
    pub topic: ByteStr,
    /// Payload (a copy: a slice would keep the whole receive buffer alive).
    pub payload: Bytes,
    /// QoS.
    pub qos: QoS,
    /// RETAIN flag.
    pub retain: bool,
    /// DUP flag.
    pub dup: bool,
    /// Sent by this page (a publish from the form) rather than received.
    pub outgoing: bool,
    /// Colour index of the first subscription it matched.
    pub color: Option<u8>,
    /// MQTT 5 properties worth showing (content type, user properties, ...), one line.
    pub properties: Option<String>,
}

impl LogEntry {
    /// What it costs the log's byte bound: topic, payload and the properties shown.
    fn size(&self) -> usize {
        self.topic.len() + self.payload.len() + self.properties.as_ref().map_or(0, String::len)
    }
}

/// How a filter string selects topics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TopicFilter {
    /// Everything.
    #[default]
    All,
    /// Topics containing this text (ASCII case-insensitive).
    Contains(String),
    /// Topics an MQTT filter with wildcards matches.
    Mqtt(String),
}

impl TopicFilter {
    /// A filter from what the user typed: wildcards make it an MQTT filter, else a substring.
    pub fn parse(s: &str) -> TopicFilter {
        let s = s.trim();
        if s.is_empty() {
            TopicFilter::All
        } else if s.contains('+') || s.contains('#') {
            TopicFilter::Mqtt(s.to_string())
        } else {
            TopicFilter::Contains(s.to_ascii_lowercase())
        }
    }

    /// Whether `topic` passes.
    pub fn accepts(&self, topic: &str) -> bool {
        match self {
            TopicFilter::All => true,
            TopicFilter::Contains(needle) => contains_ignore_ascii_case(topic, needle),
            TopicFilter::Mqtt(f) => matches(f, topic),
        }
    }
}

fn contains_ignore_ascii_case(hay: &str, lower_needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), lower_needle.as_bytes());
    n.is_empty()
        || h.windows(n.len())
            .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
}

/// The log.
// Design: entries are contiguous by `seq`, so an entry is found by arithmetic, and the filtered
// view is a queue of matching seqs maintained as entries come and go: with 100,000 entries and
// thousands of messages a second nothing is ever rescanned except when the filter changes.
// Pausing records a seq; entries after it are kept (and counted) but not shown until resumed.
#[derive(Debug, Clone)]
pub struct MessageLog {
    entries: VecDeque<LogEntry>,
    max_entries: usize,
    max_bytes: usize,
    bytes: usize,
    next_seq: u64,
    filter: TopicFilter,
    filter_text: String,
    matching: VecDeque<u64>,
    paused_at: Option<u64>,
    evicted: u64,
}

impl MessageLog {
    /// A log keeping at most `max_entries` messages and `max_bytes` of topics, payloads and
    /// the properties shown.
    pub fn new(max_entries: usize, max_bytes: usize) -> MessageLog {
        MessageLog {
            entries: VecDeque::new(),
            max_entries: max_entries.max(1),
            max_bytes: max_bytes.max(1),
            bytes: 0,
            next_seq: 0,
            filter: TopicFilter::All,
            filter_text: String::new(),
            matching: VecDeque::new(),
            paused_at: None,
            evicted: 0,
        }
    }

    /// Appends a message (its `seq` is assigned here), evicting the oldest beyond the bounds.
    pub fn push(&mut self, mut e: LogEntry) {
        e.seq = self.next_seq;
        self.next_seq += 1;
        self.bytes += e.size();
        if self.filter != TopicFilter::All && self.filter.accepts(&e.topic) {
            self.matching.push_back(e.seq);
        }
        self.entries.push_back(e);
        while self.entries.len() > self.max_entries
            || (self.bytes > self.max_bytes && self.entries.len() > 1)
        {
            let Some(old) = self.entries.pop_front() else {
                break;
            };
            self.bytes -= old.size();
            self.evicted += 1;
            if self.matching.front() == Some(&old.seq) {
                self.matching.pop_front();
            }
        }
    }

    /// Shows only topics `filter` accepts.
    pub fn set_filter(&mut self, filter: TopicFilter) {
        self.matching = if filter == TopicFilter::All {
            VecDeque::new()
        } else {
            self.entries
                .iter()
                .filter(|e| filter.accepts(&e.topic))
                .map(|e| e.seq)
                .collect()
        };
        self.filter = filter;
    }

    /// Filters by what the user typed (see [`TopicFilter::parse`]), remembering the text.
    pub fn set_filter_text(&mut self, text: &str) {
        self.filter_text = text.to_string();
        self.set_filter(TopicFilter::parse(text));
    }

    /// The text the filter was made from.
    pub fn filter_text(&self) -> &str {
        &self.filter_text
    }

    /// The filter in force.
    pub fn filter(&self) -> &TopicFilter {
        &self.filter
    }

    /// Freezes (true) or resumes (false) what is shown.
    pub fn set_paused(&mut self, paused: bool) {
        self.paused_at = paused.then_some(self.next_seq);
    }

    /// Whether the display is frozen.
    pub fn paused(&self) -> bool {
        self.paused_at.is_some()
    }

    /// Messages that arrived (and pass the filter) since the pause.
    pub fn arrived_while_paused(&self) -> usize {
        match self.paused_at {
            None => 0,
            Some(p) => self.shown_all() - self.shown_count_before(p),
        }
    }

    fn shown_all(&self) -> usize {
        if self.filter == TopicFilter::All {
            self.entries.len()
        } else {
            self.matching.len()
        }
    }

    /// How many of the shown entries have a seq below `end`.
    fn shown_count_before(&self, end: u64) -> usize {
        if self.filter == TopicFilter::All {
            let first = self.entries.front().map_or(self.next_seq, |e| e.seq);
            (end.saturating_sub(first) as usize).min(self.entries.len())
        } else {
            self.matching.partition_point(|&s| s < end)
        }
    }

    /// How many entries are shown.
    pub fn visible_len(&self) -> usize {
        match self.paused_at {
            None => self.shown_all(),
            Some(p) => self.shown_count_before(p),
        }
    }

    /// The `i`th shown entry, newest first.
    pub fn visible(&self, i: usize) -> Option<&LogEntry> {
        let n = self.visible_len();
        if i >= n {
            return None;
        }
        let k = n - 1 - i; // index among shown entries, oldest first
        let seq = if self.filter == TopicFilter::All {
            self.entries.front()?.seq + k as u64
        } else {
            *self.matching.get(k)?
        };
        self.get(seq)
    }

    /// The entry with this seq, if still kept.
    pub fn get(&self, seq: u64) -> Option<&LogEntry> {
        let first = self.entries.front()?.seq;
        self.entries.get(seq.checked_sub(first)? as usize)
    }

    /// Entries kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Topic, payload and property bytes kept.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Entries dropped to stay within the bounds.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Total messages ever logged.
    pub fn total(&self) -> u64 {
        self.next_seq
    }

    /// The bounds: entries and bytes.
    pub fn limits(&self) -> (usize, usize) {
        (self.max_entries, self.max_bytes)
    }

    /// Forgets every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.matching.clear();
        self.bytes = 0;
        if self.paused_at.is_some() {
            self.paused_at = Some(self.next_seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn entry(topic: &str, payload: &str) -> LogEntry {
        LogEntry {
            seq: 0,
            at_ms: 0.0,
            topic: topic.into(),
            payload: Bytes::copy_from_slice(payload.as_bytes()),
            qos: QoS::AtMostOnce,
            retain: false,
            dup: false,
            outgoing: false,
            color: None,
            properties: None,
        }
    }

    fn topics(log: &MessageLog) -> Vec<String> {
        (0..log.visible_len())
            .map(|i| log.visible(i).unwrap().topic.to_string())
            .collect()
    }

    #[test]
    fn bounded_in_entries_and_bytes() {
        let mut log = MessageLog::new(1000, 1 << 30);
        for i in 0..2500 {
            log.push(entry(&format!("t/{i}"), "x"));
        }
        assert_eq!(log.len(), 1000);
        assert_eq!(log.evicted(), 1500);
        assert_eq!(log.visible(0).unwrap().topic.as_ref() as &str, "t/2499");
        assert_eq!(log.visible(999).unwrap().topic.as_ref() as &str, "t/1500");
        assert!(log.visible(1000).is_none());

        let mut log = MessageLog::new(1000, 10_000);
        for _ in 0..100 {
            log.push(entry("t", &"p".repeat(999))); // 1000 bytes each
        }
        assert_eq!(log.len(), 10);
        assert!(log.bytes() <= 10_000);
        // One message bigger than the whole budget is still shown (alone).
        log.push(entry("t", &"p".repeat(50_000)));
        assert_eq!(log.len(), 1);
    }

    #[test]
    fn the_filter_follows_new_and_evicted_entries() {
        let mut log = MessageLog::new(5, 1 << 30);
        log.set_filter(TopicFilter::parse("devices/+/status"));
        for (t, _) in [
            ("devices/a/status", 0),
            ("devices/a/telemetry", 0),
            ("devices/b/status", 0),
        ] {
            log.push(entry(t, ""));
        }
        assert_eq!(topics(&log), ["devices/b/status", "devices/a/status"]);
        for _ in 0..5 {
            log.push(entry("other", ""));
        }
        // The three first entries were evicted (5 entries kept).
        assert_eq!(log.visible_len(), 0);
        log.push(entry("devices/c/status", ""));
        assert_eq!(topics(&log), ["devices/c/status"]);
        log.set_filter(TopicFilter::parse("OTHER"));
        assert_eq!(log.visible_len(), 4);
        log.set_filter(TopicFilter::parse(""));
        assert_eq!(log.visible_len(), 5);
    }

    #[test]
    fn pause_freezes_what_is_shown() {
        let mut log = MessageLog::new(100, 1 << 30);
        log.push(entry("a", ""));
        log.set_paused(true);
        log.push(entry("b", ""));
        log.push(entry("c", ""));
        assert_eq!(topics(&log), ["a"]);
        assert_eq!(log.arrived_while_paused(), 2);
        log.set_filter(TopicFilter::parse("c"));
        assert_eq!(log.visible_len(), 0);
        assert_eq!(log.arrived_while_paused(), 1);
        log.set_filter(TopicFilter::All);
        log.set_paused(false);
        assert_eq!(topics(&log), ["c", "b", "a"]);
    }
}
