//! Subscribes and unsubscribes waiting to be sent or acknowledged, with the packet identifiers
//! they hold on the current connection.

use crate::codec::{ByteStr, Packet, Properties, Subscribe, Subscription, Unsubscribe};

use super::topic::{ActiveSubscription, Registry};
use super::OpId;

/// What a pending operation asks.
#[derive(Debug, Clone)]
pub(crate) enum PendingKind {
    Subscribe {
        subs: Vec<ActiveSubscription>,
        properties: Properties,
        /// The client's own (request/response) subscription, never reported.
        internal: bool,
    },
    Unsubscribe {
        filters: Vec<ByteStr>,
        properties: Properties,
    },
}

/// One subscribe or unsubscribe.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    /// The operation to complete (None: made by the client itself).
    pub(crate) op: Option<OpId>,
    pub(crate) kind: PendingKind,
    /// The packet identifier while sent on the current connection.
    pub(crate) packet_id: Option<u16>,
}

impl Pending {
    /// The SUBSCRIBE or UNSUBSCRIBE carrying it with identifier `id`.
    pub(crate) fn packet(&self, id: u16) -> Packet {
        match &self.kind {
            PendingKind::Subscribe {
                subs, properties, ..
            } => {
                let mut props = properties.clone();
                // One SUBSCRIBE carries at most one subscription identifier.
                if let Some(ident) = subs.first().and_then(|s| s.identifier) {
                    props.subscription_identifiers = vec![ident];
                }
                Packet::Subscribe(Subscribe {
                    packet_id: id,
                    subscriptions: subs
                        .iter()
                        .map(|s| Subscription {
                            filter: s.filter.clone(),
                            options: s.options,
                        })
                        .collect(),
                    properties: props,
                })
            }
            PendingKind::Unsubscribe {
                filters,
                properties,
            } => Packet::Unsubscribe(Unsubscribe {
                packet_id: id,
                filters: filters.clone(),
                properties: properties.clone(),
            }),
        }
    }

    fn filters(&self) -> impl Iterator<Item = &ByteStr> {
        let subs: &[ActiveSubscription] = match &self.kind {
            PendingKind::Subscribe { subs, .. } => subs,
            PendingKind::Unsubscribe { .. } => &[],
        };
        subs.iter().map(|s| &s.filter)
    }
}

/// The pending operations, in the order they were made (and are sent).
// Design: a sub-state machine of the client that owns its data (quinn-proto's split of
// `Connection`): the client asks it what to send next and hands it acknowledgements; the
// subscription bound is computed here, where the subscribes not yet acknowledged are.
#[derive(Debug, Default)]
pub(crate) struct PendingOps {
    ops: Vec<Pending>,
}

impl PendingOps {
    /// Adds an operation, last.
    pub(crate) fn push(&mut self, op: Option<OpId>, kind: PendingKind) {
        self.ops.push(Pending {
            op,
            kind,
            packet_id: None,
        });
    }

    /// Puts operations first (the subscriptions a lost session must have made again).
    pub(crate) fn prepend(&mut self, ops: Vec<Pending>) {
        self.ops.splice(0..0, ops);
    }

    /// Whether a subscribe to exactly `filter` waits.
    pub(crate) fn subscribing(&self, filter: &str) -> bool {
        self.ops.iter().any(|p| p.filters().any(|f| **f == *filter))
    }

    /// How many distinct filters the registry, the waiting subscribes and `new` make together:
    /// what the subscription bound limits (offline, every subscribe waits).
    pub(crate) fn count_with<'a>(
        &'a self,
        registry: &'a Registry,
        new: impl Iterator<Item = &'a ByteStr>,
    ) -> usize {
        // A sorted vector, not a set: this is the only set the client needs, and a B-tree's
        // code costs kilobytes in the package.
        let mut known: Vec<&str> = registry.iter().map(|s| &*s.filter).collect();
        for p in &self.ops {
            known.extend(p.filters().map(|f| &**f));
        }
        known.extend(new.map(|f| &**f));
        heap_sort(&mut known, |a, b| a < b);
        known.dedup();
        known.len()
    }

    /// Index of the first operation not sent on this connection.
    pub(crate) fn first_unsent(&self) -> Option<usize> {
        self.ops.iter().position(|p| p.packet_id.is_none())
    }

    /// Marks operation `i` sent with identifier `id`; returns its packet.
    pub(crate) fn mark_sent(&mut self, i: usize, id: u16) -> Packet {
        self.ops[i].packet_id = Some(id);
        self.ops[i].packet(id)
    }

    /// Removes operation `i` (it could not be sent).
    pub(crate) fn remove(&mut self, i: usize) -> Pending {
        self.ops.remove(i)
    }

    /// The operation an acknowledgement with identifier `id` answers.
    pub(crate) fn take(&mut self, id: u16) -> Option<Pending> {
        let i = self.ops.iter().position(|p| p.packet_id == Some(id))?;
        Some(self.ops.remove(i))
    }

    /// A new connection: nothing of the last one was acknowledged, everything goes again.
    pub(crate) fn unsend_all(&mut self) {
        for p in &mut self.ops {
            p.packet_id = None;
        }
    }

    /// Every operation, removed.
    pub(crate) fn drain(&mut self) -> Vec<Pending> {
        std::mem::take(&mut self.ops)
    }

    /// Removes the subscribes that would take the subscriptions past `max` with `registry`
    /// (in order: the first ones fit), and returns them.
    pub(crate) fn refuse_beyond(&mut self, registry: &Registry, max: usize) -> Vec<Pending> {
        let mut known: Vec<ByteStr> = registry.iter().map(|s| s.filter.clone()).collect();
        heap_sort(&mut known, |a, b| a.as_str() < b.as_str());
        known.dedup_by(|a, b| a.as_str() == b.as_str());
        let mut refused = Vec::new();
        for p in std::mem::take(&mut self.ops) {
            let new: Vec<&ByteStr> = p
                .filters()
                .filter(|f| {
                    known
                        .binary_search_by(|k| k.as_str().cmp(f.as_str()))
                        .is_err()
                })
                .collect();
            let mut distinct: Vec<&str> = new.iter().map(|f| f.as_str()).collect();
            heap_sort(&mut distinct, |a, b| a < b);
            distinct.dedup();
            if known.len() + distinct.len() > max {
                refused.push(p);
                continue;
            }
            for f in distinct {
                if let Err(at) = known.binary_search_by(|k| k.as_str().cmp(f)) {
                    known.insert(at, ByteStr::from(f));
                }
            }
            self.ops.push(p);
        }
        refused
    }
}

/// Sorts in O(n log n) with a few hundred bytes of code: the standard library's sorts of
/// strings cost about 2 KB of the package's wasm each, and a subscription list can be long
/// enough (thousands of filters) that an insertion sort would be quadratic.
fn heap_sort<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let sift = |v: &mut [T], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && less(&v[child], &v[child + 1]) {
            child += 1;
        }
        if !less(&v[root], &v[child]) {
            return;
        }
        v.swap(root, child);
        root = child;
    };
    for i in (0..v.len() / 2).rev() {
        sift(v, i, v.len());
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        sift(v, 0, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::SubscriptionOptions;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn heap_sort_sorts_as_the_standard_library(mut v in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut want = v.clone();
            want.sort();
            heap_sort(&mut v, |a, b| a < b);
            prop_assert_eq!(v, want);
        }
    }
    use crate::proto::SubscriptionId;

    fn sub(filter: &str) -> PendingKind {
        PendingKind::Subscribe {
            subs: vec![ActiveSubscription {
                id: SubscriptionId(1),
                filter: filter.into(),
                options: SubscriptionOptions::default(),
                identifier: None,
            }],
            properties: Properties::default(),
            internal: false,
        }
    }

    #[test]
    fn operations_go_in_order_and_are_matched_by_identifier() {
        let mut p = PendingOps::default();
        p.push(Some(OpId(1)), sub("a"));
        p.push(Some(OpId(2)), sub("b"));
        let i = p.first_unsent().unwrap();
        assert!(matches!(p.mark_sent(i, 7), Packet::Subscribe(s) if s.packet_id == 7));
        assert_eq!(p.first_unsent(), Some(1));
        assert!(p.take(8).is_none());
        assert_eq!(p.take(7).map(|x| x.op), Some(Some(OpId(1))));
        p.unsend_all();
        assert_eq!(p.first_unsent(), Some(0));
        assert!(p.subscribing("b") && !p.subscribing("a"));
    }

    #[test]
    fn the_bound_counts_waiting_subscribes_once_per_filter() {
        let mut p = PendingOps::default();
        let registry = Registry::default();
        p.push(Some(OpId(1)), sub("a"));
        p.push(Some(OpId(2)), sub("a"));
        p.push(Some(OpId(3)), sub("b"));
        let c: ByteStr = "c".into();
        assert_eq!(p.count_with(&registry, std::iter::once(&c)), 3);
        let refused = p.refuse_beyond(&registry, 1);
        assert_eq!(
            refused.iter().map(|x| x.op).collect::<Vec<_>>(),
            [Some(OpId(3))]
        );
    }
}
