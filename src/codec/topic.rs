//! Topic Names and Topic Filters (section 4.7), and shared subscriptions (MQTT 5 section 4.8.2).

/// What makes a topic name or filter invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TopicError {
    /// Topic names and filters are at least one character long.
    Empty,
    /// Topic names and filters encode to at most 65,535 bytes.
    TooLong,
    /// Topic names and filters never contain U+0000.
    NullCharacter,
    /// Topic names never contain `+` or `#`.
    WildcardInName,
    /// `#` must be the last character and alone in its level.
    MultiLevelWildcardMisplaced,
    /// `+` must occupy a whole level.
    SingleLevelWildcardMisplaced,
    /// `$share/{ShareName}/{filter}` needs a non-empty ShareName without `/`, `+`, `#`, then a
    /// filter.
    InvalidSharedSubscription,
}

impl TopicError {
    /// What is wrong, in words.
    pub fn description(self) -> &'static str {
        use TopicError::*;
        match self {
            Empty => "it is empty",
            TooLong => "it is longer than 65,535 bytes",
            NullCharacter => "it contains U+0000",
            WildcardInName => "a topic name cannot contain the wildcards '+' or '#'",
            MultiLevelWildcardMisplaced => "'#' must stand alone as the last level",
            SingleLevelWildcardMisplaced => "'+' must occupy a whole level",
            InvalidSharedSubscription => "a shared subscription is $share/<name>/<filter> with a non-empty name free of '/', '+', '#'",
        }
    }

    /// The normative statement this breaks, in 5.0's numbering or 3.1.1's.
    pub fn rule(self, v5: bool) -> &'static str {
        use TopicError::*;
        match (self, v5) {
            (Empty, _) => "MQTT-4.7.3-1",
            (TooLong, _) => "MQTT-4.7.3-3",
            (NullCharacter, _) => "MQTT-4.7.3-2",
            (WildcardInName, _) => "MQTT-3.3.2-2",
            (MultiLevelWildcardMisplaced, true) => "MQTT-4.7.1-1",
            (MultiLevelWildcardMisplaced, false) => "MQTT-4.7.1-2",
            (SingleLevelWildcardMisplaced, true) => "MQTT-4.7.1-2",
            (SingleLevelWildcardMisplaced, false) => "MQTT-4.7.1-3",
            (InvalidSharedSubscription, _) => "MQTT-4.8.2-2",
        }
    }
}

impl crate::text::Piece for TopicError {
    fn put(&self, out: &mut String) {
        out.push_str(self.description());
    }
}

display_by_piece!(TopicError);
impl std::error::Error for TopicError {}

fn check_common(s: &str) -> Result<(), TopicError> {
    if s.is_empty() {
        return Err(TopicError::Empty);
    }
    if s.len() > u16::MAX as usize {
        return Err(TopicError::TooLong);
    }
    if s.as_bytes().contains(&0) {
        return Err(TopicError::NullCharacter);
    }
    Ok(())
}

/// Checks a Topic Name (what a PUBLISH is sent to): non-empty, no wildcards, no U+0000.
#[cfg_attr(wasmqtt_speed, optimize(speed))]
pub fn validate_topic_name(topic: &str) -> Result<(), TopicError> {
    if topic.is_empty() {
        return Err(TopicError::Empty);
    }
    if topic.len() > u16::MAX as usize {
        return Err(TopicError::TooLong);
    }
    // One pass for the three forbidden bytes (this runs for every message received).
    for &b in topic.as_bytes() {
        match b {
            0 => return Err(TopicError::NullCharacter),
            b'+' | b'#' => return Err(TopicError::WildcardInName),
            _ => {}
        }
    }
    Ok(())
}

/// Checks a Topic Filter (what a SUBSCRIBE asks for). With `shared` (MQTT 5), a filter starting
/// with `$share/` must be a well-formed shared subscription.
pub fn validate_topic_filter(filter: &str, shared: bool) -> Result<(), TopicError> {
    check_common(filter)?;
    let inner = match shared.then(|| filter.strip_prefix("$share/")).flatten() {
        Some(rest) => {
            let (name, rest) = rest
                .split_once('/')
                .ok_or(TopicError::InvalidSharedSubscription)?;
            if name.is_empty() || name.contains(['+', '#']) || rest.is_empty() {
                return Err(TopicError::InvalidSharedSubscription);
            }
            rest
        }
        None => filter,
    };
    let mut levels = inner.split('/').peekable();
    while let Some(level) = levels.next() {
        if level.contains('#') && (level != "#" || levels.peek().is_some()) {
            return Err(TopicError::MultiLevelWildcardMisplaced);
        }
        if level.contains('+') && level != "+" {
            return Err(TopicError::SingleLevelWildcardMisplaced);
        }
    }
    Ok(())
}

/// Whether `filter` is a shared subscription (`$share/{group}/{filter}`, MQTT 5 4.8.2).
pub fn is_shared(filter: &str) -> bool {
    filter.starts_with("$share/")
}
