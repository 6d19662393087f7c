//! Topic matching exactly per specification (section 4.7) and the registry of subscriptions that
//! routes each received message to the subscriptions it matches.

use crate::codec::{ByteStr, SubscriptionOptions};

/// The filter part of a shared subscription (`$share/{group}/{filter}` -> `filter`), or the
/// filter itself.
pub fn filter_of(filter: &str) -> &str {
    match filter.strip_prefix("$share/") {
        Some(rest) => rest.split_once('/').map_or(rest, |(_, f)| f),
        None => filter,
    }
}

/// Whether a topic name matches a topic filter (the filter is assumed valid).
///
/// Levels are split on `/` (empty levels count); `+` matches exactly one level; `#` matches the
/// parent level and any number of levels below it; a filter starting with a wildcard does not
/// match topics starting with `$` [MQTT-4.7.2-1]; `$share/{group}/` is stripped first.
pub fn matches(filter: &str, topic: &str) -> bool {
    let filter = filter_of(filter);
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(fl), Some(tl)) if fl == tl => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// A handle the application gets for each subscription it makes; messages are tagged with the
/// handles of every subscription they match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(pub u64);

/// An active subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveSubscription {
    /// The application's handle.
    pub id: SubscriptionId,
    /// The filter as subscribed (a shared subscription keeps its `$share/` prefix).
    pub filter: ByteStr,
    /// The options subscribed with.
    pub options: SubscriptionOptions,
    /// The MQTT 5 subscription identifier sent with it, if any.
    pub identifier: Option<u32>,
}

/// The subscriptions the server has granted (or that will be re-sent on reconnect).
// Design: a client has few subscriptions (tens, rarely thousands), and routing must honour
// shared subscriptions and subscription identifiers; a flat list with a precise matcher is
// simpler and, at that size, as fast as a trie. Bounded by `max_subscriptions` in the config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    subs: Vec<ActiveSubscription>,
}

impl Registry {
    /// Adds or replaces (same filter) a subscription [MQTT-3.8.4-3].
    pub fn insert(&mut self, sub: ActiveSubscription) {
        match self.subs.iter_mut().find(|s| s.filter == sub.filter) {
            Some(s) => *s = sub,
            None => self.subs.push(sub),
        }
    }

    /// Removes the subscription with this exact filter [MQTT-3.10.4-1].
    pub fn remove(&mut self, filter: &str) -> Option<ActiveSubscription> {
        let i = self.subs.iter().position(|s| &*s.filter == filter)?;
        Some(self.subs.remove(i))
    }

    /// The subscription with this exact filter.
    pub fn get(&self, filter: &str) -> Option<&ActiveSubscription> {
        self.subs.iter().find(|s| &*s.filter == filter)
    }

    /// All subscriptions, in the order they were made.
    pub fn iter(&self) -> impl Iterator<Item = &ActiveSubscription> {
        self.subs.iter()
    }

    /// Number of subscriptions.
    pub fn len(&self) -> usize {
        self.subs.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.subs.is_empty()
    }

    /// The subscriptions a message on `topic` is for. A subscription made with an identifier
    /// gets the message only when the server named that identifier (a server may send one copy
    /// per overlapping subscription [MQTT-3.3.4-5]); one without gets it when its filter matches.
    pub fn route(&self, topic: &str, identifiers: &[u32]) -> Vec<SubscriptionId> {
        self.subs
            .iter()
            .filter(|s| match s.identifier {
                Some(i) if !identifiers.is_empty() => identifiers.contains(&i),
                _ => matches(&s.filter, topic),
            })
            .map(|s| s.id)
            .collect()
    }
}
