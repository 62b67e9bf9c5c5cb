//! JSON for output that may reach a terminal.
//!
//! serde_json escapes C0 controls but writes the C1 controls (U+0080 to
//! U+009F; U+009B is an 8-bit CSI some terminals obey), DEL and the bidi
//! overrides and isolates (Trojan Source) raw. A partner's note carried
//! through `--json` or `export` would reach the terminal as it is. Here
//! those characters are written as `\uXXXX` escapes instead: the JSON stays
//! valid and every value parses back unchanged.

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

use super::sanitize::is_unsafe_beyond_c0;

/// `value` as pretty-printed JSON, with terminal controls escaped.
pub fn to_writer_pretty<W, T>(writer: W, value: &T) -> io::Result<()>
where
    W: io::Write,
    T: ?Sized + Serialize,
{
    write(writer, value, Escaping(PrettyFormatter::new()))
}

/// `value` as compact JSON (one line), with terminal controls escaped.
pub fn to_writer<W, T>(writer: W, value: &T) -> io::Result<()>
where
    W: io::Write,
    T: ?Sized + Serialize,
{
    write(writer, value, Escaping(CompactFormatter))
}

fn write<W, T, F>(writer: W, value: &T, formatter: F) -> io::Result<()>
where
    W: io::Write,
    T: ?Sized + Serialize,
    F: Formatter,
{
    let mut ser = serde_json::Serializer::with_formatter(writer, formatter);
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// Characters serde_json leaves raw that a terminal may act on.
fn needs_escape(c: char) -> bool {
    is_unsafe_beyond_c0(c)
}

/// A formatter that writes as `F` does, but escapes [`needs_escape`]
/// characters inside strings.
struct Escaping<F>(F);

/// Structure (indentation, commas) is `F`'s; only strings change.
macro_rules! delegate {
    ($($name:ident),*) => {$(
        fn $name<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
            self.0.$name(w)
        }
    )*};
}

/// The same for the methods that also take `first`.
macro_rules! delegate_first {
    ($($name:ident),*) => {$(
        fn $name<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
            self.0.$name(w, first)
        }
    )*};
}

impl<F: Formatter> Formatter for Escaping<F> {
    delegate!(
        begin_array,
        end_array,
        end_array_value,
        begin_object,
        end_object,
        end_object_key,
        begin_object_value,
        end_object_value
    );
    delegate_first!(begin_array_value, begin_object_key);

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find(needs_escape) {
            self.0.write_string_fragment(w, &rest[..at])?;
            let c = rest[at..].chars().next().expect("found a char");
            // Every such character is in the Basic Multilingual Plane: one
            // `\uXXXX` escape, no surrogate pair.
            write!(w, "\\u{:04x}", u32::from(c))?;
            rest = &rest[at + c.len_utf8()..];
        }
        self.0.write_string_fragment(w, rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn compact(value: &serde_json::Value) -> String {
        let mut out = Vec::new();
        to_writer(&mut out, value).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn terminal_controls_are_escaped_and_round_trip() {
        let cases = [
            ("\u{9b}31mred", r#""\u009b31mred""#),
            ("pay \u{202e}0001\u{202c}", r#""pay \u202e0001\u202c""#),
            ("\u{2066}x\u{2069}", r#""\u2066x\u2069""#),
            ("del\u{7f}", r#""del\u007f""#),
            ("\u{1b}[0m \"q\"", r#""\u001b[0m \"q\"""#),
            ("ça va, 好 👍", r#""ça va, 好 👍""#),
        ];
        for (text, want) in cases {
            let value = json!(text);
            let out = compact(&value);
            assert_eq!(out, want, "{text:?}");
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&out).unwrap(),
                value
            );
        }
    }

    #[test]
    fn layout_is_serde_jsons() {
        let value = json!({"a": [1, {"b": "\u{85}"}], "c": null, "\u{9b}": true});
        let mut pretty = Vec::new();
        to_writer_pretty(&mut pretty, &value).unwrap();
        let plain = serde_json::to_string_pretty(&value).unwrap();
        let pretty = String::from_utf8(pretty).unwrap();
        assert_eq!(
            pretty,
            plain
                .replace('\u{85}', "\\u0085")
                .replace('\u{9b}', "\\u009b")
        );
        assert_eq!(
            compact(&value),
            serde_json::to_string(&value)
                .unwrap()
                .replace('\u{85}', "\\u0085")
                .replace('\u{9b}', "\\u009b")
        );
    }
}
