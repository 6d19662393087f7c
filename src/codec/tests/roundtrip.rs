//! Property tests: every valid packet survives encode then decode, however the bytes are split;
//! no input makes the decoder panic or hang.

use super::arbitrary::Rng;
use super::*;
use proptest::prelude::*;

fn version(i: u8) -> ProtocolVersion {
    [V31, V4, V5][i as usize % 3]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn decode_of_encode_is_identity(seed in any::<u64>(), v in 0u8..3) {
        let v = version(v);
        let p = Rng(seed).packet(v);
        let bytes = p.to_bytes(v).map_err(|e| TestCaseError::fail(format!("{e} for {p:?}")))?;
        prop_assert_eq!(p.encoded_len(v), Ok(bytes.len()));
        let back = decode(&bytes, v).map_err(|e| TestCaseError::fail(format!("{e} for {p:?}")))?;
        prop_assert_eq!(back, p);
    }

    #[test]
    fn decoding_split_at_every_byte_equals_decoding_whole(seed in any::<u64>(), v in 0u8..3) {
        let v = version(v);
        let mut rng = Rng(seed);
        // Two or three packets back to back, as a WebSocket frame may carry them. A CONNECT
        // only comes first (it sets the version for what follows).
        let packets: Vec<Packet> = (0..rng.range(2, 3))
            .map(|i| loop {
                let p = rng.packet(v);
                if i == 0 || !matches!(p, Packet::Connect(_)) { break p; }
            })
            .collect();
        let mut stream = Vec::new();
        for p in &packets {
            p.encode(v, &mut stream).unwrap();
        }
        // Every split point of a short stream; of a long one (large packets must be covered
        // too, not skipped), the edges, each packet boundary's neighbourhood and random points.
        let mut splits: Vec<usize> = if stream.len() <= 3000 {
            (0..=stream.len()).collect()
        } else {
            let mut at: Vec<usize> = (0..64).chain(stream.len() - 64..=stream.len()).collect();
            let mut end = 0;
            for p in &packets {
                end += p.encoded_len(v).unwrap();
                at.extend(end.saturating_sub(8)..(end + 8).min(stream.len()));
            }
            at.extend((0..200).map(|_| rng.below(stream.len() as u64 + 1) as usize));
            at
        };
        splits.sort_unstable();
        splits.dedup();
        for split in splits {
            let mut d = Decoder::new(v);
            let mut got = Vec::new();
            for chunk in [&stream[..split], &stream[split..]] {
                d.push(chunk);
                while let Some(p) = d.decode().map_err(|e| TestCaseError::fail(e.to_string()))? {
                    got.push(p);
                }
            }
            prop_assert_eq!(d.buffered(), 0);
            prop_assert_eq!(&got, &packets, "split at {}", split);
        }
        // And in many small pieces of random sizes, as a slow link delivers them.
        let mut d = Decoder::new(v);
        let mut got = Vec::new();
        let mut rest = &stream[..];
        while !rest.is_empty() {
            let n = 1 + rng.below(rest.len().min(700) as u64) as usize;
            d.push(&rest[..n]);
            rest = &rest[n..];
            while let Some(p) = d.decode().map_err(|e| TestCaseError::fail(e.to_string()))? {
                got.push(p);
            }
        }
        prop_assert_eq!(&got, &packets, "random pieces");
        prop_assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_what_decodes_reencodes(
        data in proptest::collection::vec(any::<u8>(), 0..200), v in 0u8..3
    ) {
        check_accepted_input(&data, version(v))?;
    }

    #[test]
    fn mutated_valid_packets_never_panic(seed in any::<u64>(), v in 0u8..3, flips in 1usize..4) {
        let v = version(v);
        let mut rng = Rng(seed);
        let mut bytes = rng.packet(v).to_bytes(v).unwrap();
        for _ in 0..flips {
            let i = rng.below(bytes.len() as u64) as usize;
            bytes[i] ^= 1 << rng.below(8);
        }
        check_accepted_input(&bytes, v)?;
    }
}

/// Feeds `data` to a streaming decoder. Whatever it accepts must encode again, and decode to the
/// same packet (accepted input has a canonical form); whatever it rejects must stay rejected.
fn check_accepted_input(data: &[u8], v: ProtocolVersion) -> Result<(), TestCaseError> {
    let mut d = Decoder::new(v);
    d.push(data);
    for _ in 0..=data.len() {
        match d.decode() {
            Ok(Some(p)) => {
                let v = match &p {
                    Packet::Connect(c) => c.protocol,
                    _ => d.version(),
                };
                let bytes = match p.to_bytes(v) {
                    Ok(bytes) => bytes,
                    // A sender may not send such a client identifier [MQTT-3.1.3-7], but a
                    // receiver must read the CONNECT to refuse it with CONNACK 0x02 "identifier
                    // rejected" [MQTT-3.1.3-8]: not malformed, so the one accepted asymmetry.
                    Err(EncodeError::InvalidClientId { .. }) if matches!(p, Packet::Connect(_)) => {
                        continue;
                    }
                    Err(e) => {
                        return Err(TestCaseError::fail(format!(
                            "accepted {p:?} cannot be encoded: {e}"
                        )))
                    }
                };
                prop_assert_eq!(decode(&bytes, v), Ok(p));
            }
            Ok(None) => return Ok(()),
            Err(e) => {
                prop_assert_eq!(d.decode(), Err(e));
                return Ok(());
            }
        }
    }
    Err(TestCaseError::fail("decoder did not terminate"))
}
