//! Everything that turns results into text for a person: tables, the
//! heatmap, colour, JSON for scripts, and the sanitising of untrusted text.

pub mod heatmap;
pub mod json;
pub mod sanitize;

use comfy_table::{ContentArrangement, Table};

/// Narrower than this, a reported width is not a real terminal's: some CI
/// runners and editor shells report 0 columns, which would draw a table one
/// character per column.
const MIN_WIDTH: u16 = 20;

/// The width to fit tables to: `COLUMNS` when set, else the terminal's.
/// `None` when unknown (piped output) or implausibly narrow.
fn terminal_width(table: &Table) -> Option<u16> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .or_else(|| table.width())
        .filter(|w| *w >= MIN_WIDTH)
}

/// The terminal's width (`COLUMNS` when set), or `None` when unknown or
/// implausibly narrow: then output is left whole.
pub fn width() -> Option<u16> {
    terminal_width(&Table::new())
}

/// The display width of the widest line of `text`, escapes aside.
pub fn widest_line(text: &str) -> usize {
    use unicode_width::UnicodeWidthStr;
    text.lines()
        .map(|l| sanitize::sanitize(l).width())
        .max()
        .unwrap_or(0)
}

/// `text` broken at spaces into lines of at most `columns` of display
/// width; a word wider than that gets a line of its own.
pub fn wrap(text: &str, columns: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthStr;
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.width() + 1 + word.width() > columns {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// At most `columns` of display width of `text`, ending in `…` when cut.
/// Tables truncate their cells with this before laying them out, so a huge
/// note cannot make the layout slow (the full text is in `--json`).
pub fn truncate(text: &str, columns: usize) -> std::borrow::Cow<'_, str> {
    use unicode_width::UnicodeWidthChar;
    // Where the text must be cut to leave room for the ellipsis, found on
    // the way; the text is cut only if it turns out wider than `columns`.
    let (mut used, mut cut) = (0, None);
    for (at, c) in text.char_indices() {
        let width = c.width().unwrap_or(0);
        if cut.is_none() && used + width > columns.saturating_sub(1) {
            cut = Some(at);
        }
        used += width;
        if used > columns {
            let end = cut.unwrap_or(at);
            return std::borrow::Cow::Owned(format!("{}…", &text[..end]));
        }
    }
    std::borrow::Cow::Borrowed(text)
}

/// A sparkline of values from 0 to 1 in plain glyphs (`▁` to `█`), one a
/// value; `·` where there is no value yet. Readable without colour.
pub fn sparkline(values: &[Option<f64>]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    values
        .iter()
        .map(|v| match v {
            Some(v) => BARS[(v.clamp(0.0, 1.0) * 7.0).round() as usize],
            None => '·',
        })
        .collect()
}

/// The widest a cell may be: the terminal's width, or, when output is not a
/// terminal, room for the longest note safe accepts.
pub fn cell_limit() -> usize {
    terminal_width(&Table::new()).map_or(crate::domain::limits::MAX_NOTE_CHARS, usize::from)
}

/// Fit `table` to the terminal, or leave it whole when the width is unknown.
pub fn fit(table: &mut Table) {
    match terminal_width(table) {
        Some(width) => {
            table
                .set_width(width)
                .set_content_arrangement(ContentArrangement::Dynamic);
        }
        None => {
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
}

/// The table as text, without the padding that would otherwise end every
/// line (a borderless table pads each row to the widest cell of the last
/// column).
pub fn table_text(table: &Table) -> String {
    table
        .lines()
        .map(|line| trim_styled_end(&line).to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `line` without trailing blanks, also those inside a styled cell's
/// final reset (`   \x1b[0m` becomes `\x1b[0m`).
fn trim_styled_end(line: &str) -> std::borrow::Cow<'_, str> {
    const RESET: &str = "\x1b[0m";
    let trimmed = line.trim_end();
    match trimmed.strip_suffix(RESET) {
        Some(before) if before.ends_with(char::is_whitespace) || before.ends_with(RESET) => {
            let inner = trim_styled_end(before);
            if inner.ends_with(RESET) || inner.is_empty() {
                std::borrow::Cow::Owned(inner.into_owned())
            } else {
                std::borrow::Cow::Owned(format!("{inner}{RESET}"))
            }
        }
        _ => std::borrow::Cow::Borrowed(trimmed),
    }
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn sparklines_show_zero_to_one_in_eight_steps() {
        let values = [None, Some(0.0), Some(0.5), Some(1.0), Some(1.7)];
        assert_eq!(super::sparkline(&values), "·▁▅██");
    }

    #[test]
    fn text_wraps_at_spaces() {
        assert_eq!(
            super::wrap("a kind, non-sexual touch", 10),
            ["a kind,", "non-sexual", "touch"]
        );
        assert_eq!(super::wrap("short", 10), ["short"]);
        assert!(super::wrap("   ", 10).is_empty());
    }

    #[test]
    fn styled_padding_is_trimmed_too() {
        assert_eq!(super::trim_styled_end("a  "), "a");
        assert_eq!(
            super::trim_styled_end("\x1b[2ma \x1b[0m\x1b[2m2%  \x1b[0m"),
            "\x1b[2ma \x1b[0m\x1b[2m2%\x1b[0m"
        );
        assert_eq!(
            super::trim_styled_end("x\x1b[2m  \x1b[0m"),
            "x\x1b[2m\x1b[0m"
        );
    }

    #[test]
    fn cells_are_cut_to_their_width_with_an_ellipsis() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("exactly10!", 10), "exactly10!");
        assert_eq!(truncate("eleven wide", 10), "eleven wi…");
        // Wide characters count two columns.
        assert_eq!(truncate("日本語のノート", 6), "日本…");
        let huge = "x".repeat(200_000);
        assert_eq!(truncate(&huge, 80).chars().count(), 80);
    }
}
