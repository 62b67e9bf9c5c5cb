//! People: the two partners, by id, with the names they chose.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::rev::Rev;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub rev: Rev,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `people.json`: person id -> display name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeopleDoc {
    pub schema: u64,
    #[serde(default)]
    pub people: Vec<Person>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for PeopleDoc {
    fn default() -> Self {
        PeopleDoc {
            schema: 1,
            people: Vec::new(),
            extra: Map::new(),
        }
    }
}

impl PeopleDoc {
    pub fn name_of(&self, id: &str) -> Option<&str> {
        self.people
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.name.as_str())
    }

    /// Record `name` for `id`; returns whether anything changed.
    pub fn set(&mut self, id: &str, name: &str, rev: Rev) -> bool {
        match self.people.iter_mut().find(|p| p.id == id) {
            Some(p) if p.name == name => false,
            Some(p) => {
                p.name = name.to_string();
                p.rev = rev;
                true
            }
            None => {
                self.people.push(Person {
                    id: id.to_string(),
                    name: name.to_string(),
                    rev,
                    extra: Map::new(),
                });
                true
            }
        }
    }
}
