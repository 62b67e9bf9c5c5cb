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
        .map(|line| line.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}
