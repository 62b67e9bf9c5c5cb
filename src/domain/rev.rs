//! Revisions: a hybrid logical clock that orders every change, so that two
//! replicas agree on which version of a record wins without a server.

use serde::{Deserialize, Serialize};

/// The revision of a record. Ordered by `ms`, then `c`, then `by`, so any two
/// distinct revisions compare the same way on every machine.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Rev {
    /// `max(wall clock, highest ms seen)`, in milliseconds since the epoch.
    pub ms: u64,
    /// Breaks ties within one millisecond.
    pub c: u32,
    /// The person who made the change; breaks ties between people.
    pub by: String,
}

/// The local clock, persisted between runs so that revisions never go
/// backwards even when the wall clock does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    pub ms: u64,
    pub c: u32,
}

impl Clock {
    /// A new revision for a change made now by `by`.
    pub fn tick(&mut self, wall_ms: u64, by: &str) -> Rev {
        if wall_ms > self.ms {
            self.ms = wall_ms;
            self.c = 0;
        } else {
            self.c = self.c.saturating_add(1);
        }
        Rev {
            ms: self.ms,
            c: self.c,
            by: by.to_string(),
        }
    }

    /// Move the clock past a revision seen elsewhere (a partner's, after sync).
    pub fn observe(&mut self, rev: &Rev) {
        if rev.ms > self.ms || (rev.ms == self.ms && rev.c > self.c) {
            self.ms = rev.ms;
            self.c = rev.c;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_never_go_backwards() {
        let mut clock = Clock::default();
        let a = clock.tick(1000, "p");
        let b = clock.tick(1000, "p");
        let c = clock.tick(900, "p"); // the wall clock went back
        let d = clock.tick(2000, "p");
        assert!(a < b && b < c && c < d);
        assert_eq!((c.ms, c.c), (1000, 2));
        assert_eq!((d.ms, d.c), (2000, 0));
    }

    #[test]
    fn observing_a_later_rev_moves_the_clock_past_it() {
        let mut clock = Clock { ms: 10, c: 0 };
        let theirs = Rev {
            ms: 50,
            c: 3,
            by: "q".into(),
        };
        clock.observe(&theirs);
        let mine = clock.tick(20, "p");
        assert!(mine > theirs);
    }

    #[test]
    fn person_breaks_ties() {
        let a = Rev {
            ms: 5,
            c: 0,
            by: "a".into(),
        };
        let b = Rev {
            ms: 5,
            c: 0,
            by: "b".into(),
        };
        assert!(a < b);
    }
}
