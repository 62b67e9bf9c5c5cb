//! Making untrusted text (a partner's note) safe to print in a terminal.
//!
//! Two rules, applied in order:
//!
//! 1. A *complete* escape sequence (CSI, OSC, DCS/APC/PM/SOS strings, and
//!    the short `ESC x` escapes, in their 7-bit and 8-bit forms) is removed
//!    whole. Replacing only the introducer would leave noise such as `[31m`
//!    or `]8;;https://…` in the note.
//! 2. Any other control character becomes U+FFFD, so that tampering stays
//!    visible instead of silently changing what the reader sees. This covers
//!    C0 (except `\n` and `\t`), DEL, C1, a lone or unterminated `ESC`, and the
//!    bidi overrides and isolates that can reorder text (Trojan Source).
//!
//! The one exception is `\r\n`, which becomes `\n`: a note typed on Windows
//! is not an attack. A lone `\r` (the "overwrite the line" trick) is replaced.
//!
//! Safety does not depend on the sequence parsing: whatever it decides, no
//! control character reaches the output.

use std::borrow::Cow;

const ESC: char = '\u{1b}';
const BEL: char = '\u{7}';
/// 8-bit String Terminator.
const ST: char = '\u{9c}';
const REPLACEMENT: char = '\u{fffd}';

/// Text safe to print: no control characters, no escape sequences.
///
/// Keeps `\n` and `\t`; turns `\r\n` into `\n`. Borrows when nothing changes.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    clean(text, false)
}

/// Same as [`sanitize`] but keeps it to one line, for tables: `\n`, `\t`,
/// `\r\n`, and the Unicode line and paragraph separators each become a space.
pub fn sanitize_line(text: &str) -> Cow<'_, str> {
    clean(text, true)
}

/// Characters that never reach the output as they are.
fn is_unsafe(c: char) -> bool {
    matches!(c, '\0'..='\u{8}' | '\u{b}'..='\u{1f}') // C0 except \t and \n
        || is_unsafe_beyond_c0(c)
}

/// The unsafe characters outside C0 (see
/// [`crate::domain::limits::is_unsafe_beyond_c0`]). Shared with JSON output,
/// where serde_json already escapes C0 but writes these raw.
pub(crate) use crate::domain::limits::is_unsafe_beyond_c0;

fn breaks_line(c: char) -> bool {
    matches!(c, '\n' | '\t' | '\u{2028}' | '\u{2029}')
}

fn clean(text: &str, one_line: bool) -> Cow<'_, str> {
    let needs_work = |c: char| is_unsafe(c) || (one_line && breaks_line(c));
    let Some(start) = text.find(needs_work) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..start]);
    let mut rest = &text[start..];
    while let Some(c) = rest.chars().next() {
        let mut len = c.len_utf8();
        if let Some(n) = escape_len(rest) {
            len = n;
        } else if c == '\r' && rest[1..].starts_with('\n') {
            // Drop the `\r` of `\r\n`; the `\n` is handled next round.
        } else if one_line && breaks_line(c) {
            out.push(' ');
        } else if is_unsafe(c) {
            out.push(REPLACEMENT);
        } else {
            out.push(c);
        }
        rest = &rest[len..];
    }
    Cow::Owned(out)
}

enum Kind {
    /// `ESC [` or U+009B: parameters and intermediates, then a final byte.
    Csi,
    /// OSC, DCS, SOS, PM, APC: any text up to BEL or ST.
    Str,
    /// `ESC` with intermediates (0x20..=0x2F), then a final byte (nF escapes).
    Intermediate,
}

/// The length in bytes of the complete escape sequence at the start of `s`,
/// or `None` if there is none (not an introducer, or unterminated).
fn escape_len(s: &str) -> Option<usize> {
    let mut chars = s.char_indices();
    let kind = match chars.next()?.1 {
        ESC => match chars.next()? {
            (_, '[') => Kind::Csi,
            (_, ']' | 'P' | 'X' | '^' | '_') => Kind::Str,
            (_, ' '..='/') => Kind::Intermediate,
            // Two-character escapes: ESC 7, ESC c, ESC M, ESC =, ...
            (i, '0'..='~') => return Some(i + 1),
            _ => return None,
        },
        '\u{9b}' => Kind::Csi,
        '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => Kind::Str,
        _ => return None,
    };
    match kind {
        Kind::Csi => {
            for (i, c) in chars {
                match c {
                    ' '..='?' => {}
                    '@'..='~' => return Some(i + 1),
                    _ => return None,
                }
            }
        }
        Kind::Intermediate => {
            for (i, c) in chars {
                match c {
                    ' '..='/' => {}
                    '0'..='~' => return Some(i + 1),
                    _ => return None,
                }
            }
        }
        Kind::Str => {
            for (i, c) in chars {
                match c {
                    BEL => return Some(i + 1),
                    ST => return Some(i + ST.len_utf8()),
                    // `ESC \` ends the string; any other ESC aborts it.
                    ESC if s[i + 1..].starts_with('\\') => return Some(i + 2),
                    ESC => return None,
                    _ => {}
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn owned(text: &str) -> String {
        sanitize(text).into_owned()
    }

    #[test]
    fn plain_text_is_borrowed() {
        let text = "we talked\n\tit helped — ça va, 好 👍";
        assert!(matches!(sanitize(text), Cow::Borrowed(t) if t == text));
        assert!(matches!(sanitize_line("one line"), Cow::Borrowed(_)));
    }

    #[test]
    fn colour_codes_are_removed_whole() {
        assert_eq!(owned("\x1b[31mred\x1b[0m text"), "red text");
        assert_eq!(owned("\x1b[38;5;196mhot\x1b[m"), "hot");
        assert_eq!(owned("\x1b[1;4;38;2;255;0;0mx"), "x");
    }

    #[test]
    fn osc_hyperlinks_clipboard_and_titles_are_removed() {
        // OSC 8 hyperlink, terminated by ST and by BEL.
        let link = "see \x1b]8;;https://evil.example\x1b\\my note\x1b]8;;\x1b\\ ok";
        assert_eq!(owned(link), "see my note ok");
        let link = "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07";
        assert_eq!(owned(link), "click");
        // OSC 52 writes to the clipboard.
        assert_eq!(owned("hi\x1b]52;c;cm0gLXJmIH4=\x07"), "hi");
        // OSC 0/2 sets the window title.
        assert_eq!(owned("\x1b]0;pwned\x07fine"), "fine");
        assert_eq!(owned("\x1b]2;pwned\x1b\\fine"), "fine");
    }

    #[test]
    fn other_strings_and_short_escapes_are_removed() {
        assert_eq!(owned("a\x1bP+q544e\x1b\\b"), "ab"); // DCS
        assert_eq!(owned("a\x1b_payload\x1b\\b"), "ab"); // APC
        assert_eq!(owned("a\x1b^pm\x07b"), "ab"); // PM
        assert_eq!(owned("a\x1bXsos\x1b\\b"), "ab"); // SOS
        assert_eq!(owned("a\x1bcb"), "ab"); // full reset
        assert_eq!(owned("a\x1b7b\x1b8c"), "abc"); // save/restore cursor
        assert_eq!(owned("a\x1b(0b\x1b(Bc"), "abc"); // character sets
        assert_eq!(owned("a\x1b#8b"), "ab"); // screen alignment test
    }

    #[test]
    fn cursor_movement_is_removed() {
        assert_eq!(owned("ok\x1b[2A\x1b[2Kfake"), "okfake");
        assert_eq!(owned("\x1b[H\x1b[2Jclear"), "clear");
        assert_eq!(owned("\x1b[?1049hbig\x1b[?25l"), "big");
    }

    #[test]
    fn carriage_return_cannot_overwrite() {
        assert_eq!(
            owned("I hate you\rI love you"),
            "I hate you\u{fffd}I love you"
        );
        assert_eq!(
            owned("abc\x08\x08\x08xyz"),
            "abc\u{fffd}\u{fffd}\u{fffd}xyz"
        );
        // A Windows line ending is not a trick.
        assert_eq!(owned("one\r\ntwo"), "one\ntwo");
    }

    #[test]
    fn eight_bit_controls_are_neutralised() {
        assert_eq!(owned("\u{9b}31mred\u{9b}0m"), "red");
        assert_eq!(owned("\u{9d}0;title\u{9c}x"), "x");
        assert_eq!(owned("a\u{85}b\u{9c}c"), "a\u{fffd}b\u{fffd}c");
    }

    #[test]
    fn lone_and_unterminated_escapes_become_visible() {
        assert_eq!(owned("a\x1b"), "a\u{fffd}");
        assert_eq!(owned("a\x1b[31"), "a\u{fffd}[31");
        assert_eq!(owned("\x1b]0;title"), "\u{fffd}]0;title");
        assert_eq!(owned("x\x1b\u{e9}"), "x\u{fffd}\u{e9}");
        assert_eq!(owned("\0\x07\x7f"), "\u{fffd}\u{fffd}\u{fffd}");
    }

    #[test]
    fn bidi_overrides_are_neutralised() {
        let trojan = "pay \u{202e}0001\u{202c} now";
        assert_eq!(owned(trojan), "pay \u{fffd}0001\u{fffd} now");
        assert_eq!(owned("\u{2066}x\u{2069}"), "\u{fffd}x\u{fffd}");
        // The marks that flip the direction of what follows them, too.
        assert_eq!(
            owned("a\u{200e}b\u{200f}c\u{61c}"),
            "a\u{fffd}b\u{fffd}c\u{fffd}"
        );
    }

    #[test]
    fn sanitize_line_flattens() {
        assert_eq!(sanitize_line("a\nb\tc\r\nd\u{2028}e"), "a b c d e");
        assert_eq!(sanitize_line("\x1b[1mbold\x1b[0m\r"), "bold\u{fffd}");
    }

    fn tricky_char() -> impl Strategy<Value = char> {
        prop_oneof![
            any::<char>(),
            proptest::char::range('\0', '\u{a0}'),
            proptest::char::range('\u{2028}', '\u{206f}'),
            proptest::sample::select(vec![
                ESC, '[', ']', '\\', BEL, ST, 'P', 'm', ';', '\r', '\n'
            ]),
        ]
    }

    fn tricky_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(tricky_char(), 0..64).prop_map(String::from_iter)
    }

    proptest! {
        #[test]
        fn output_has_no_controls(text in tricky_text()) {
            let out = sanitize(&text);
            prop_assert!(!out.chars().any(is_unsafe), "{out:?}");
            let line = sanitize_line(&text);
            prop_assert!(!line.chars().any(|c| is_unsafe(c) || breaks_line(c)), "{line:?}");
        }

        #[test]
        fn sanitizing_twice_changes_nothing(text in tricky_text()) {
            let once = sanitize(&text);
            prop_assert!(matches!(sanitize(&once), Cow::Borrowed(_)));
            let once = sanitize_line(&text);
            prop_assert!(matches!(sanitize_line(&once), Cow::Borrowed(_)));
        }

        #[test]
        fn text_without_controls_is_unchanged(
            text in proptest::collection::vec(
                any::<char>().prop_filter("control", |c| !is_unsafe(*c)),
                0..64,
            ).prop_map(String::from_iter)
        ) {
            prop_assert!(matches!(sanitize(&text), Cow::Borrowed(t) if t == text));
        }
    }
}
