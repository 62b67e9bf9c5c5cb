//! Where things are in a sealed remote. No path names a person, a month,
//! a role or a time; the device ids are hashes of the public keys that
//! the statements publish anyway.
//!
//! ```text
//! keys/<device>              the device's signed statement (clear)
//! epochs/<n>.age             epoch n, sealed to its devices (n from 1)
//! log/<device>/<h>/<l>.age   segment number 64 × h + l of the device's
//!                            shared log, in log order (l < 64)
//! ```

use crate::keys::DeviceId;

/// Segments per folder of a device's log.
pub const FAN_OUT: u64 = 64;

/// A path of the sealed layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Statement(DeviceId),
    Epoch(u64),
    Segment { device: DeviceId, index: u64 },
}

pub fn statement_path(device: &DeviceId) -> String {
    format!("keys/{device}")
}

pub fn epoch_path(number: u64) -> String {
    format!("epochs/{number}.age")
}

pub fn segment_path(device: &DeviceId, index: u64) -> String {
    format!("log/{device}/{}/{}.age", index / FAN_OUT, index % FAN_OUT)
}

/// The top-level names of the layout.
pub const TOP: [&str; 3] = ["epochs", "keys", "log"];

/// What `path` is in the layout; `None` for anything else. Numbers have
/// one spelling (no sign, no leading zero).
pub fn parse(path: &str) -> Option<Place> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts[..] {
        ["keys", device] => DeviceId::parse(device).map(Place::Statement),
        ["epochs", name] => {
            let n = number(name.strip_suffix(".age")?)?;
            (n >= 1).then_some(Place::Epoch(n))
        }
        ["log", device, high, low] => {
            let (high, low) = (number(high)?, number(low.strip_suffix(".age")?)?);
            (low < FAN_OUT).then_some(Place::Segment {
                device: DeviceId::parse(device)?,
                index: high.checked_mul(FAN_OUT)?.checked_add(low)?,
            })
        }
        _ => None,
    }
}

fn number(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip_and_nothing_else_is_in_the_layout() {
        let device = DeviceId::parse(&"ab".repeat(16)).unwrap();
        for index in [0, 1, 63, 64, 65, 4095, 4096] {
            let path = segment_path(&device, index);
            assert_eq!(
                parse(&path),
                Some(Place::Segment {
                    device: device.clone(),
                    index
                })
            );
        }
        assert_eq!(segment_path(&device, 65), format!("log/{device}/1/1.age"));
        assert_eq!(parse(&epoch_path(3)), Some(Place::Epoch(3)));
        assert_eq!(
            parse(&statement_path(&device)),
            Some(Place::Statement(device.clone()))
        );
        for bad in [
            "epochs/0.age",
            "epochs/01.age",
            "epochs/1",
            "keys/ABC",
            &format!("log/{device}/0/64.age"),
            &format!("log/{device}/00/1.age"),
            &format!("log/{device}/0/1.jsonl"),
            &format!("log/{device}/0/+1.age"),
            &format!("shared/log/{device}/00/00/0000000001.jsonl"),
            "people.json",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
