//! One error type for the whole program. Each kind maps to an exit code, and
//! an error may carry a hint that tells the user what to do next.

use std::fmt;
use std::path::Path;

/// Exit code for a runtime failure: data, disk, sync.
pub const EXIT_RUNTIME: i32 = 1;
/// Exit code for a usage or input error.
pub const EXIT_USAGE: i32 = 2;

/// What kind of failure, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The user asked for something that cannot be done as asked: an unknown
    /// practice, a bad date, an entry that is not theirs. Exit 2.
    Input,
    /// The data, the disk or the network failed us. Exit 1.
    Runtime,
}

#[derive(Debug)]
pub struct Error {
    kind: Kind,
    message: String,
    hint: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A usage or input error (exit 2).
    pub fn input(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Input,
            message: clean(message.into()),
            hint: None,
            source: None,
        }
    }

    /// A runtime failure (exit 1).
    pub fn runtime(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Runtime,
            message: clean(message.into()),
            hint: None,
            source: None,
        }
    }

    /// An I/O failure on a path, worded for a person.
    pub fn io(action: &str, path: &Path, err: std::io::Error) -> Self {
        let hint = match err.kind() {
            std::io::ErrorKind::PermissionDenied => Some(
                "check the permissions of the data directory (see `safe --help` for --data-dir)"
                    .to_string(),
            ),
            std::io::ErrorKind::StorageFull => {
                Some("free some disk space and try again".to_string())
            }
            _ => None,
        };
        Error {
            kind: Kind::Runtime,
            message: clean(format!("could not {action} {}: {err}", path.display())),
            hint,
            source: Some(Box::new(err)),
        }
    }

    /// A file that does not parse; never overwritten.
    pub fn corrupt(path: &Path, err: &serde_json::Error) -> Self {
        Error::runtime(format!(
            "{} is not valid safe data (line {}, column {}): {}",
            path.display(),
            err.line(),
            err.column(),
            strip_position(&err.to_string())
        ))
        .with_hint("safe left the file untouched; fix it by hand or restore it from a backup or from `safe sync`")
    }

    /// A file written by a newer safe; never rewritten.
    pub fn newer_schema(path: &Path, schema: u64, known: u64) -> Self {
        Error::runtime(format!(
            "{} uses data format {schema}, but this safe only knows format {known}",
            path.display()
        ))
        .with_hint("upgrade safe to read it; the file was left untouched")
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(clean(hint.into()));
        self
    }

    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    pub fn exit_code(&self) -> i32 {
        match self.kind {
            Kind::Input => EXIT_USAGE,
            Kind::Runtime => EXIT_RUNTIME,
        }
    }
}

/// Messages and hints often quote what came from outside: a file name in a
/// remote, a goal or a practice someone typed, a partner's name. They are
/// made safe to print once, here, so no escape sequence or bidi control can
/// reach a terminal whichever way the error is shown.
fn clean(text: String) -> String {
    match crate::render::sanitize::sanitize(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(clean) => clean,
    }
}

/// serde_json appends " at line L column C"; we already say where.
fn strip_position(text: &str) -> &str {
    match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => text,
    }
}

/// Writing output failed; a closed pipe (`safe history | head`) is told
/// apart so that it can end the program quietly.
impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::runtime(format!("could not write the output: {err}")).with_source(err)
    }
}

impl Error {
    pub fn is_broken_pipe(&self) -> bool {
        self.source
            .as_deref()
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
