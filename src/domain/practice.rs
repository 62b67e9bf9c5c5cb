//! Practices: the built-in S.A.F.E. catalogue, the ones a couple adds, and
//! each person's own goals for them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::goal::Goal;
use super::rev::Rev;

/// A practice as one person sees it: its description and their goal.
#[derive(Debug, Clone, PartialEq)]
pub struct Practice {
    pub id: String,
    pub group: String,
    pub about: String,
    pub goal: Goal,
    pub builtin: bool,
    /// Retired practices are kept in history but hidden from lists and logging.
    pub retired: bool,
}

/// The built-in catalogue of DESIGN.md §1: id, group, default goal, meaning.
pub const BUILTIN: &[(&str, &str, Goal, &str)] = &[
    (
        "gentle-touch",
        "Show up & soothe",
        Goal::Daily,
        "a kind, non-sexual touch, especially after tension",
    ),
    (
        "turn-toward",
        "Show up & soothe",
        Goal::Daily,
        "noticed a small bid for attention and responded with interest",
    ),
    (
        "long-kiss",
        "Show up & soothe",
        Goal::None,
        "a lingering hello or goodbye kiss or hug, not a rushed one",
    ),
    (
        "check-in",
        "Show up & soothe",
        Goal::Daily,
        "asked how your partner really is and learned one thing about their day",
    ),
    (
        "ask-need",
        "Ask & attend",
        Goal::None,
        "named a need as a clear, kind request rather than a complaint",
    ),
    (
        "listen",
        "Ask & attend",
        Goal::None,
        "listened to the end without fixing or rebutting",
    ),
    (
        "mirror",
        "Ask & attend",
        Goal::None,
        "reflected your partner's words back, said why they make sense, imagined what they feel",
    ),
    (
        "stress-talk",
        "Ask & attend",
        Goal::PerWeek(3),
        "took your partner's side about a stress from outside the relationship",
    ),
    (
        "apology",
        "Fix & forgive",
        Goal::None,
        "owned a mistake plainly (\"I was wrong, I'm sorry\"), no \"but\"",
    ),
    (
        "repair",
        "Fix & forgive",
        Goal::None,
        "came back together after a rupture: offered or accepted a repair",
    ),
    (
        "gentle-start",
        "Fix & forgive",
        Goal::None,
        "raised an issue softly: your feeling, the situation, what you would like",
    ),
    (
        "time-out",
        "Fix & forgive",
        Goal::None,
        "called a break when flooded, and came back when you said you would",
    ),
    (
        "appreciation",
        "Express & enrich",
        Goal::Daily,
        "told your partner one specific thing you value about them",
    ),
    (
        "card",
        "Express & enrich",
        Goal::PerWeek(2),
        "explored a conversation card together (connect, communicate, create)",
    ),
    (
        "date",
        "Express & enrich",
        Goal::PerWeek(1),
        "dedicated, device-free time together",
    ),
    (
        "state-of-us",
        "Express & enrich",
        Goal::PerWeek(1),
        "a weekly talk: what went well, one concern, what would help next week",
    ),
];

/// The group custom practices are listed under.
pub const CUSTOM_GROUP: &str = "Our own";

/// A practice one of the partners added; both can log it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomPractice {
    pub id: String,
    #[serde(default)]
    pub about: String,
    /// The goal anyone starts with until they set their own.
    pub goal: Goal,
    pub added_by: String,
    pub rev: Rev,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One person's own goal for one practice, or its retirement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoalSetting {
    pub person: String,
    pub practice: String,
    pub goal: Goal,
    #[serde(default)]
    pub retired: bool,
    pub rev: Rev,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `practices.json`: custom practices and everyone's goals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PracticesDoc {
    pub schema: u64,
    #[serde(default)]
    pub practices: Vec<CustomPractice>,
    #[serde(default)]
    pub goals: Vec<GoalSetting>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for PracticesDoc {
    fn default() -> Self {
        PracticesDoc {
            schema: 1,
            practices: Vec::new(),
            goals: Vec::new(),
            extra: Map::new(),
        }
    }
}

impl PracticesDoc {
    /// Every practice as `person` sees it: built-ins first in catalogue
    /// order, then custom ones by id. A custom id that breaks the id rule
    /// (stored by an older safe that took it from a partner) is left out:
    /// it could carry shell syntax into a completion or a hint.
    pub fn catalogue(&self, person: &str) -> Vec<Practice> {
        let mut all: Vec<Practice> = BUILTIN
            .iter()
            .map(|(id, group, goal, about)| Practice {
                id: id.to_string(),
                group: group.to_string(),
                about: about.to_string(),
                goal: *goal,
                builtin: true,
                retired: false,
            })
            .collect();
        let mut custom: Vec<&CustomPractice> = self
            .practices
            .iter()
            .filter(|p| !BUILTIN.iter().any(|b| b.0 == p.id) && valid_id(&p.id))
            .collect();
        custom.sort_by(|a, b| a.id.cmp(&b.id));
        all.extend(custom.into_iter().map(|p| Practice {
            id: p.id.clone(),
            group: CUSTOM_GROUP.to_string(),
            about: p.about.clone(),
            goal: p.goal,
            builtin: false,
            retired: false,
        }));
        for setting in self.goals.iter().filter(|g| g.person == person) {
            if let Some(p) = all.iter_mut().find(|p| p.id == setting.practice) {
                p.goal = setting.goal;
                p.retired = setting.retired;
            }
        }
        all
    }

    /// One practice as `person` sees it.
    pub fn find(&self, person: &str, id: &str) -> Option<Practice> {
        self.catalogue(person).into_iter().find(|p| p.id == id)
    }

    /// Set `person`'s goal (and retirement) for a practice, replacing theirs.
    pub fn set_goal(&mut self, person: &str, practice: &str, goal: Goal, retired: bool, rev: Rev) {
        match self
            .goals
            .iter_mut()
            .find(|g| g.person == person && g.practice == practice)
        {
            Some(g) => {
                g.goal = goal;
                g.retired = retired;
                g.rev = rev;
            }
            None => self.goals.push(GoalSetting {
                person: person.to_string(),
                practice: practice.to_string(),
                goal,
                retired,
                rev,
                extra: Map::new(),
            }),
        }
    }
}

/// Is `id` acceptable as a new practice id? Lowercase words joined by dashes,
/// so it is easy to type and complete in a shell.
pub fn valid_id(id: &str) -> bool {
    let ok_chars = id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    (2..=32).contains(&id.len()) && ok_chars && !id.starts_with('-') && !id.ends_with('-')
}

/// The names closest to `wanted`, best first, for "did you mean" hints.
pub fn closest<'a>(wanted: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let wanted = wanted.to_ascii_lowercase();
    let mut scored: Vec<(f64, &str)> = names
        .into_iter()
        .map(|name| {
            let mut score = strsim::jaro_winkler(&wanted, name);
            // A part of the id (`kiss` for `long-kiss`) is what people type
            // when they half remember it: always worth suggesting.
            if wanted.len() >= 3 && name.contains(&wanted) {
                score += 1.0;
            }
            (score, name)
        })
        .filter(|(score, _)| *score >= 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, name)| name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(ms: u64) -> Rev {
        Rev {
            ms,
            c: 0,
            by: "a".into(),
        }
    }

    #[test]
    fn the_catalogue_has_the_sixteen_builtins_in_order() {
        let doc = PracticesDoc::default();
        let all = doc.catalogue("a");
        assert_eq!(all.len(), 16);
        assert_eq!(all[0].id, "gentle-touch");
        assert_eq!(doc.find("a", "stress-talk").unwrap().goal, Goal::PerWeek(3));
    }

    #[test]
    fn goals_are_personal() {
        let mut doc = PracticesDoc::default();
        doc.set_goal("a", "appreciation", Goal::PerWeek(3), false, rev(1));
        assert_eq!(
            doc.find("a", "appreciation").unwrap().goal,
            Goal::PerWeek(3)
        );
        assert_eq!(doc.find("b", "appreciation").unwrap().goal, Goal::Daily);
    }

    #[test]
    fn suggests_close_names() {
        let names = BUILTIN.iter().map(|b| b.0);
        assert_eq!(closest("apreciation", names.clone())[0], "appreciation");
        assert_eq!(closest("repiar", names.clone())[0], "repair");
        assert_eq!(closest("kiss", names.clone())[0], "long-kiss");
        assert_eq!(closest("touch", names.clone())[0], "gentle-touch");
        assert!(closest("zzzzzz", names).is_empty());
    }

    #[test]
    fn a_stored_practice_with_a_bad_id_is_not_offered() {
        let mut doc = PracticesDoc::default();
        for id in ["read-aloud", "hug;touch pwned;#", "a\nb"] {
            doc.practices.push(CustomPractice {
                id: id.to_string(),
                about: String::new(),
                goal: Goal::Daily,
                added_by: "sam".into(),
                rev: rev(1),
                extra: Map::new(),
            });
        }
        let ids: Vec<String> = doc.catalogue("me").into_iter().map(|p| p.id).collect();
        assert!(ids.contains(&"read-aloud".to_string()));
        assert!(!ids.iter().any(|id| !valid_id(id)), "{ids:?}");
    }

    #[test]
    fn practice_ids_are_simple_words() {
        assert!(valid_id("read-aloud"));
        assert!(!valid_id("Read Aloud"));
        assert!(!valid_id("-x"));
        assert!(!valid_id("x"));
    }
}
