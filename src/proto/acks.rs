//! Acknowledgements the application holds back until it has handled a message (MQTT.js's
//! `handleMessage`): with them, a message is acknowledged only once the application is done
//! with it, and the server's flow control (our Receive Maximum) paces delivery to the
//! application's speed.

use std::collections::VecDeque;

use crate::codec::QoS;

/// An acknowledgement due now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// PUBACK for a QoS 1 message.
    PubAck(u16),
    /// PUBCOMP for a QoS 2 message.
    PubComp(u16),
}

/// Acknowledgements waiting for the application.
// Design: QoS 1 PUBACKs must leave in the order the PUBLISHes came [MQTT-4.6.0-2], so they wait
// in a queue and leave from its front once released; an application that releases out of order
// holds the later ones back. For QoS 2 the PUBREC (ownership) is not held, only the PUBCOMP,
// which is due once both the application released the message and its PUBREL came (as MQTT.js
// holds it). QoS 1 entries belong to a connection (the server sends the message again on the
// next); QoS 2 entries to the session.
#[derive(Debug, Clone, Default)]
pub struct AppAcks {
    manual: bool,
    qos1: VecDeque<(u16, bool)>,
    /// (identifier, released by the application, PUBREL received)
    qos2: Vec<(u16, bool, bool)>,
}

impl AppAcks {
    /// Whether the application acknowledges (`release`) or the client does at once.
    pub fn set_manual(&mut self, manual: bool) {
        self.manual = manual;
    }

    /// How many acknowledgements wait for the application.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.qos1.len() + self.qos2.len()
    }

    /// True when none waits.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A QoS 1 PUBLISH came: whether its PUBACK is due now.
    pub fn on_qos1(&mut self, id: u16) -> bool {
        if !self.manual && self.qos1.is_empty() {
            return true;
        }
        self.qos1.push_back((id, !self.manual));
        false
    }

    /// A new QoS 2 PUBLISH came (its PUBREC goes at once).
    pub fn on_qos2(&mut self, id: u16) {
        if self.manual {
            self.qos2.retain(|e| e.0 != id);
            self.qos2.push((id, false, false));
        }
    }

    /// A PUBREL came: whether its PUBCOMP is due now.
    pub fn on_pubrel(&mut self, id: u16) -> bool {
        match self.qos2.iter().position(|e| e.0 == id) {
            Some(i) if self.qos2[i].1 => {
                self.qos2.swap_remove(i);
                true
            }
            Some(i) => {
                self.qos2[i].2 = true;
                false
            }
            None => true,
        }
    }

    /// The application is done with the message `id` of `qos`: the acknowledgements now due,
    /// in order. An identifier not waiting (a connection ago, or twice) is ignored.
    pub fn release(&mut self, id: u16, qos: QoS) -> Vec<Due> {
        let mut due = Vec::new();
        match qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => {
                if let Some(e) = self.qos1.iter_mut().find(|e| e.0 == id && !e.1) {
                    e.1 = true;
                }
                while let Some(&(front, true)) = self.qos1.front() {
                    self.qos1.pop_front();
                    due.push(Due::PubAck(front));
                }
            }
            QoS::ExactlyOnce => {
                if let Some(i) = self.qos2.iter().position(|e| e.0 == id) {
                    if self.qos2[i].2 {
                        self.qos2.swap_remove(i);
                        due.push(Due::PubComp(id));
                    } else {
                        self.qos2[i].1 = true;
                    }
                }
            }
        }
        due
    }

    /// The connection ended: the server sends its unacknowledged QoS 1 messages again, and
    /// PUBREL again for QoS 2 ones [MQTT-4.4.0-1]; a held PUBCOMP answers that PUBREL, never
    /// goes out unasked on the next connection (whose session may not be the one that sent it).
    pub fn connection_lost(&mut self) {
        self.qos1.clear();
        for e in &mut self.qos2 {
            e.2 = false;
        }
    }

    /// The session ended: nothing waits any more.
    pub fn session_lost(&mut self) {
        self.qos1.clear();
        self.qos2.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_acknowledgements_go_at_once() {
        let mut a = AppAcks::default();
        assert!(a.on_qos1(1));
        a.on_qos2(2);
        assert!(a.on_pubrel(2));
        assert!(a.is_empty());
    }

    #[test]
    fn held_pubacks_leave_in_the_order_the_messages_came() {
        // [MQTT-4.6.0-2]: the application releases 3 before 1; PUBACK 3 waits for 1.
        let mut a = AppAcks::default();
        a.set_manual(true);
        for id in [1, 2, 3] {
            assert!(!a.on_qos1(id));
        }
        assert_eq!(a.release(3, QoS::AtLeastOnce), []);
        assert_eq!(a.release(1, QoS::AtLeastOnce), [Due::PubAck(1)]);
        assert_eq!(
            a.release(2, QoS::AtLeastOnce),
            [Due::PubAck(2), Due::PubAck(3)]
        );
        assert_eq!(a.release(2, QoS::AtLeastOnce), [], "released twice");
        // Switched back to automatic while one waits: later ones queue behind it.
        assert!(!a.on_qos1(4));
        a.set_manual(false);
        assert!(!a.on_qos1(5));
        assert_eq!(
            a.release(4, QoS::AtLeastOnce),
            [Due::PubAck(4), Due::PubAck(5)]
        );
        assert!(a.on_qos1(6));
    }

    #[test]
    fn a_held_pubcomp_needs_both_the_release_and_the_pubrel() {
        let mut a = AppAcks::default();
        a.set_manual(true);
        a.on_qos2(7);
        a.on_qos2(8);
        assert!(!a.on_pubrel(7), "not released yet");
        assert_eq!(a.release(7, QoS::ExactlyOnce), [Due::PubComp(7)]);
        assert_eq!(a.release(8, QoS::ExactlyOnce), [], "no PUBREL yet");
        assert!(a.on_pubrel(8));
        assert!(a.is_empty());
    }

    #[test]
    fn a_held_pubcomp_answers_the_pubrel_of_the_connection_it_goes_out_on() {
        // Found by the simulation (seed 797,315,786): a PUBREL came, the connection was lost,
        // and the release sent PUBCOMP on the next connection, to a session that had never
        // sent that PUBREL.
        let mut a = AppAcks::default();
        a.set_manual(true);
        a.on_qos2(6);
        assert!(!a.on_pubrel(6));
        a.connection_lost();
        assert_eq!(
            a.release(6, QoS::ExactlyOnce),
            [],
            "no PUBREL on this connection yet"
        );
        assert!(a.on_pubrel(6), "the PUBREL sent again is answered at once");
        assert!(a.is_empty());
    }

    #[test]
    fn a_lost_connection_forgets_qos_1_and_keeps_qos_2() {
        let mut a = AppAcks::default();
        a.set_manual(true);
        a.on_qos1(1);
        a.on_qos2(2);
        a.connection_lost();
        assert_eq!(a.release(1, QoS::AtLeastOnce), []);
        assert_eq!(a.len(), 1);
        a.session_lost();
        assert!(a.is_empty());
    }
}
