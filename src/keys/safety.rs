//! The couple's safety number (`safe partner show`): one number both
//! partners compare in person, as Signal's safety numbers are compared. It
//! changes if any device key of either person changes, so a key slipped in
//! outside pairing shows up as a different number.
//!
//! Each person's half is 35 decimal digits (over 116 bits) taken from an
//! iterated SHA-512 of their sorted device keys; the two halves are sorted,
//! so both partners see the same number.

use sha2::{Digest, Sha512};

/// Hash rounds per half: slows a search for keys with a chosen number.
const ROUNDS: usize = 5200;
/// Groups of five digits per person.
const GROUPS: usize = 7;

/// One person's half: `GROUPS` groups of five digits.
pub fn fingerprint(person: &str, device_keys: &[[u8; 32]]) -> Vec<String> {
    let mut keys = device_keys.to_vec();
    keys.sort_unstable();
    keys.dedup();
    let mut input = Vec::new();
    input.extend_from_slice(b"safe-safety-number-v1\0");
    input.extend_from_slice(person.as_bytes());
    input.push(0);
    for key in &keys {
        input.extend_from_slice(key);
    }
    let mut digest = Sha512::digest(&input);
    for _ in 1..ROUNDS {
        let mut h = Sha512::new();
        h.update(digest);
        h.update(&input);
        digest = h.finalize();
    }
    digest
        .chunks(5)
        .take(GROUPS)
        .map(|chunk| {
            let n = chunk.iter().fold(0u64, |n, b| n << 8 | u64::from(*b));
            format!("{:05}", n % 100_000)
        })
        .collect()
}

/// The couple's number: both halves, sorted so that either partner
/// computes the same groups in the same order.
pub fn safety_number(a: (&str, &[[u8; 32]]), b: (&str, &[[u8; 32]])) -> Vec<String> {
    let mut halves = [fingerprint(a.0, a.1), fingerprint(b.0, b.1)];
    halves.sort();
    halves.concat()
}

/// The number as people read it aloud: rows of groups.
pub fn display(groups: &[String]) -> String {
    groups
        .chunks(GROUPS)
        .map(|row| row.join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_partners_see_the_same_number() {
        let alex = ("alex", &[[1u8; 32], [2u8; 32]][..]);
        let sam = ("sam", &[[3u8; 32]][..]);
        let one = safety_number(alex, sam);
        assert_eq!(one, safety_number(sam, alex));
        assert_eq!(one.len(), 2 * GROUPS);
        assert!(
            one.iter()
                .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit()))
        );
        // The order of a person's devices does not matter.
        let alex_again = ("alex", &[[2u8; 32], [1u8; 32]][..]);
        assert_eq!(safety_number(alex_again, sam), one);
    }

    #[test]
    fn any_changed_key_changes_the_number() {
        let sam = ("sam", &[[3u8; 32]][..]);
        let one = safety_number(("alex", &[[1u8; 32]]), sam);
        let slipped_in = safety_number(("alex", &[[1u8; 32], [9u8; 32]]), sam);
        let replaced = safety_number(("alex", &[[8u8; 32]]), sam);
        assert_ne!(one, slipped_in);
        assert_ne!(one, replaced);
    }

    #[test]
    fn the_number_reads_in_two_rows() {
        let number = safety_number(("a", &[[1u8; 32]]), ("b", &[[2u8; 32]]));
        let text = display(&number);
        assert_eq!(text.lines().count(), 2);
        assert_eq!(text.lines().next().unwrap().split(' ').count(), GROUPS);
    }
}
