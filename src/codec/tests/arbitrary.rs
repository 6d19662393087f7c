//! Arbitrary valid packets, from a seed: every field the version allows, nothing it forbids.

use super::*;
use crate::codec::properties::Ctx;

/// splitmix64: small, seedable, good enough to spread test inputs.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub(crate) fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
    fn bytes(&mut self, max: u64) -> Bytes {
        let n = if self.chance(20) {
            self.range(0, 5000)
        } else {
            self.range(0, max)
        };
        (0..n).map(|_| self.next() as u8).collect::<Vec<_>>().into()
    }
    /// A PUBLISH payload: now and then large (3-byte Remaining Lengths, packets spread over
    /// many frames), so the split-decoding property covers them.
    fn payload(&mut self) -> Bytes {
        if self.chance(100) {
            let n = self.range(16_384, 300_000);
            return (0..n).map(|_| self.next() as u8).collect::<Vec<_>>().into();
        }
        self.bytes(100)
    }
    /// Any string without U+0000, mixing ASCII and multi-byte characters.
    fn string(&mut self, max: u64) -> ByteStr {
        const CHARS: &[char] = &[
            'a', 'Z', '0', ' ', '/', '+', '#', '$', 'é', '€', '😀', '\u{feff}', '\u{7f}',
        ];
        let n = self.range(0, max);
        (0..n).map(|_| self.pick(CHARS)).collect::<String>().into()
    }
    fn level(&mut self) -> String {
        const CHARS: &[char] = &['a', 'b', 'x', '0', '-', 'é', '😀', ' ', '$'];
        let n = self.range(0, 4);
        (0..n).map(|_| self.pick(CHARS)).collect()
    }
    pub(crate) fn topic_name(&mut self) -> ByteStr {
        loop {
            let levels = self.range(1, 4);
            let t = (0..levels)
                .map(|_| self.level())
                .collect::<Vec<_>>()
                .join("/");
            if !t.is_empty() {
                return t.into();
            }
        }
    }
    pub(crate) fn topic_filter(&mut self, v5: bool) -> ByteStr {
        let levels = self.range(1, 4);
        let mut parts: Vec<String> = (0..levels)
            .map(|_| {
                if self.chance(4) {
                    "+".to_string()
                } else {
                    self.level()
                }
            })
            .collect();
        if self.chance(4) {
            parts.push("#".into());
        }
        let mut f = parts.join("/");
        if f.is_empty() {
            f.push('#');
        }
        if v5 && self.chance(6) {
            f = format!("$share/g{}/{f}", self.below(9));
        }
        f.into()
    }
    fn id(&mut self) -> u16 {
        self.range(1, 65535) as u16
    }
    fn qos(&mut self) -> QoS {
        self.pick(&[QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce])
    }
    fn reason(&mut self, t: PacketType) -> ReasonCode {
        loop {
            if let Some(c) = ReasonCode::from_u8(self.next() as u8) {
                if c.allowed_in(t) {
                    return c;
                }
            }
        }
    }

    /// Properties valid in `ctx`, each present with probability 1/4.
    pub(crate) fn properties(&mut self, ctx: Ctx, v: ProtocolVersion) -> Properties {
        let mut p = Properties::default();
        if !v.is_v5() || self.chance(3) {
            return p;
        }
        let ok = |id: PropertyId| id.allowed() & (1 << ctx as u16) != 0;
        let ids: Vec<PropertyId> = (0u32..0x30)
            .filter_map(PropertyId::from_u32)
            .filter(|&i| ok(i))
            .collect();
        for id in ids {
            if !self.chance(4) {
                continue;
            }
            use PropertyId::*;
            match id {
                PayloadFormatIndicator => p.payload_format_indicator = Some(self.chance(2)),
                MessageExpiryInterval => p.message_expiry_interval = Some(self.next() as u32),
                ContentType => p.content_type = Some(self.string(12)),
                ResponseTopic => p.response_topic = Some(self.topic_name()),
                CorrelationData => p.correlation_data = Some(self.bytes(16)),
                SubscriptionIdentifier => {
                    let n = if ctx == Ctx::Publish {
                        self.range(1, 3)
                    } else {
                        1
                    };
                    for _ in 0..n {
                        let max = self.pick(&[127u64, 16_383, 268_435_455]);
                        p.subscription_identifiers.push(self.range(1, max) as u32);
                    }
                }
                SessionExpiryInterval => p.session_expiry_interval = Some(self.next() as u32),
                AssignedClientIdentifier => p.assigned_client_identifier = Some(self.string(23)),
                ServerKeepAlive => p.server_keep_alive = Some(self.next() as u16),
                AuthenticationMethod => p.authentication_method = Some(self.string(10)),
                AuthenticationData => p.authentication_data = Some(self.bytes(16)),
                RequestProblemInformation => p.request_problem_information = Some(self.chance(2)),
                WillDelayInterval => p.will_delay_interval = Some(self.next() as u32),
                RequestResponseInformation => p.request_response_information = Some(self.chance(2)),
                ResponseInformation => p.response_information = Some(self.string(10)),
                ServerReference => p.server_reference = Some(self.string(20)),
                ReasonString => p.reason_string = Some(self.string(20)),
                ReceiveMaximum => p.receive_maximum = Some(self.range(1, 65535) as u16),
                TopicAliasMaximum => p.topic_alias_maximum = Some(self.next() as u16),
                TopicAlias => p.topic_alias = Some(self.id()),
                MaximumQoS => p.maximum_qos = Some(self.pick(&[QoS::AtMostOnce, QoS::AtLeastOnce])),
                RetainAvailable => p.retain_available = Some(self.chance(2)),
                UserProperty => {
                    for _ in 0..self.range(1, 3) {
                        let k = self.string(6);
                        let v = self.string(6);
                        p.user_properties.push((k, v));
                    }
                }
                MaximumPacketSize => {
                    p.maximum_packet_size = Some(self.range(1, u32::MAX.into()) as u32)
                }
                WildcardSubscriptionAvailable => {
                    p.wildcard_subscription_available = Some(self.chance(2))
                }
                SubscriptionIdentifierAvailable => {
                    p.subscription_identifier_available = Some(self.chance(2))
                }
                SharedSubscriptionAvailable => {
                    p.shared_subscription_available = Some(self.chance(2))
                }
            }
        }
        if p.authentication_data.is_some() && p.authentication_method.is_none() {
            // Data without a method is a Protocol Error (MQTT 5 3.1.2.11.10).
            p.authentication_method = Some(self.string(10));
        }
        p
    }

    /// A valid packet of any type for `v`.
    pub(crate) fn packet(&mut self, v: ProtocolVersion) -> Packet {
        let kinds = if v.is_v5() { 15 } else { 14 };
        match self.below(kinds) {
            0 => Packet::Connect(Box::new(self.connect(v))),
            1 => {
                let reason_code = if v.is_v5() {
                    self.reason(PacketType::ConnAck)
                } else {
                    ConnectReturnCode::from_u8(self.below(6) as u8)
                        .map(|c| c.reason())
                        .unwrap_or_default()
                };
                Packet::ConnAck(ConnAck {
                    session_present: reason_code == ReasonCode::Success && self.chance(2),
                    reason_code,
                    properties: self.properties(Ctx::ConnAck, v),
                })
            }
            2 | 3 => Packet::Publish(self.publish(v)),
            4 => Packet::PubAck(self.pub_resp(v, PacketType::PubAck)),
            5 => Packet::PubRec(self.pub_resp(v, PacketType::PubRec)),
            6 => Packet::PubRel(self.pub_resp(v, PacketType::PubRel)),
            7 => Packet::PubComp(self.pub_resp(v, PacketType::PubComp)),
            8 => {
                let n = self.range(1, 4);
                let subscriptions = (0..n)
                    .map(|_| {
                        let filter = self.topic_filter(v.is_v5());
                        let mut options = SubscriptionOptions {
                            qos: self.qos(),
                            ..Default::default()
                        };
                        if v.is_v5() {
                            options.no_local = !filter.starts_with("$share/") && self.chance(2);
                            options.retain_as_published = self.chance(2);
                            options.retain_handling = self.pick(&[
                                RetainHandling::SendAtSubscribe,
                                RetainHandling::SendIfNew,
                                RetainHandling::DoNotSend,
                            ]);
                        }
                        Subscription { filter, options }
                    })
                    .collect();
                Packet::Subscribe(Subscribe {
                    packet_id: self.id(),
                    subscriptions,
                    properties: self.properties(Ctx::Subscribe, v),
                })
            }
            9 => {
                let n = self.range(1, 4);
                let reason_codes = (0..n)
                    .map(|_| {
                        if v.is_v5() {
                            self.reason(PacketType::SubAck)
                        } else {
                            self.pick(&[
                                ReasonCode::Success,
                                ReasonCode::GrantedQoS1,
                                ReasonCode::GrantedQoS2,
                                ReasonCode::UnspecifiedError,
                            ])
                        }
                    })
                    .collect();
                Packet::SubAck(SubAck {
                    packet_id: self.id(),
                    reason_codes,
                    properties: self.properties(Ctx::SubAck, v),
                })
            }
            10 => {
                let n = self.range(1, 4);
                Packet::Unsubscribe(Unsubscribe {
                    packet_id: self.id(),
                    filters: (0..n).map(|_| self.topic_filter(v.is_v5())).collect(),
                    properties: self.properties(Ctx::Unsubscribe, v),
                })
            }
            11 => {
                let n = if v.is_v5() { self.range(1, 4) } else { 0 };
                Packet::UnsubAck(UnsubAck {
                    packet_id: self.id(),
                    reason_codes: (0..n).map(|_| self.reason(PacketType::UnsubAck)).collect(),
                    properties: self.properties(Ctx::UnsubAck, v),
                })
            }
            12 => {
                if self.chance(2) {
                    Packet::PingReq
                } else {
                    Packet::PingResp
                }
            }
            13 => Packet::Disconnect(Disconnect {
                reason_code: if v.is_v5() {
                    self.reason(PacketType::Disconnect)
                } else {
                    ReasonCode::Success
                },
                properties: self.properties(Ctx::Disconnect, v),
            }),
            _ => Packet::Auth(Auth {
                reason_code: self.reason(PacketType::Auth),
                properties: self.properties(Ctx::Auth, v),
            }),
        }
    }

    pub(crate) fn connect(&mut self, v: ProtocolVersion) -> Connect {
        let client_id: ByteStr = if v == V31 {
            "c".repeat(self.range(1, 23) as usize).into()
        } else {
            self.string(23)
        };
        let clean_start = client_id.is_empty() && v == V4 || self.chance(2);
        let username = self.chance(2).then(|| self.string(10));
        let password = (username.is_some() || v.is_v5())
            .then(|| self.bytes(10))
            .filter(|_| self.chance(2));
        let will = self.chance(2).then(|| Will {
            topic: self.topic_name(),
            payload: self.bytes(20),
            qos: self.qos(),
            retain: self.chance(2),
            properties: self.properties(Ctx::Will, v),
        });
        Connect {
            protocol: v,
            clean_start,
            keep_alive: self.next() as u16,
            client_id,
            will,
            username,
            password,
            properties: self.properties(Ctx::Connect, v),
        }
    }

    pub(crate) fn publish(&mut self, v: ProtocolVersion) -> Publish {
        let qos = self.qos();
        let mut properties = self.properties(Ctx::Publish, v);
        let topic = if v.is_v5() && self.chance(8) {
            properties.topic_alias = Some(self.id());
            ByteStr::new()
        } else {
            self.topic_name()
        };
        Publish {
            dup: qos != QoS::AtMostOnce && self.chance(3),
            qos,
            retain: self.chance(2),
            topic,
            packet_id: if qos == QoS::AtMostOnce { 0 } else { self.id() },
            payload: self.payload(),
            properties,
        }
    }

    fn pub_resp(&mut self, v: ProtocolVersion, t: PacketType) -> PubResp {
        PubResp {
            packet_id: self.id(),
            reason_code: if v.is_v5() {
                self.reason(t)
            } else {
                ReasonCode::Success
            },
            properties: self.properties(Ctx::PubResp, v),
        }
    }
}
