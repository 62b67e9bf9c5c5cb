//! A GitHub-style calendar heatmap for the terminal: one row per weekday, one
//! column per week, the current week last.
//!
//! ```text
//!     Oct     Nov
//! Mon · ░ · ▒ ▓ ·
//! Tue ░ - ‖ ░[·]
//! ...
//!     less · ░ ▒ ▓ more
//!     - skipped  ‖ paused  [ ] today
//! ```
//!
//! A day with nothing logged reads differently when it was skipped or
//! paused on purpose: rest is not a miss. Today sits in brackets.
//!
//! Shades are fixed steps (none, 1, 2, 3 or more), not quartiles of the
//! maximum, so that a shade means the same thing from one week to the next and
//! one busy day does not wash out the rest.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anstyle::{Ansi256Color, Style};
use chrono::{Datelike, Days, NaiveDate};

use crate::domain::goal::WeekStart;

/// Width of the weekday labels ("Mon"); each week then takes two columns
/// (a space and the cell), so 26 weeks need 3 + 52 = 55 columns.
const LABEL_WIDTH: usize = 3;

/// Plain glyphs by level; they read correctly in a pipe and in a file.
const GLYPHS: [char; 4] = ['·', '░', '▒', '▓'];

/// With colour every cell is a square; the shade carries the level.
const SQUARE: char = '■';

/// Days of rest, with and without colour.
const SKIPPED: char = '-';
const PAUSED: char = '‖';

/// Rest glyphs' colour: a calm blue, apart from the greens of practice.
const REST_SHADE: u8 = 67;

/// Why a day with nothing logged is not a miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rest {
    Skipped,
    Paused,
}

/// 256-colour shades by level: grey for none, then GitHub-like greens
/// that get lighter, which also reads on terminals with dark backgrounds.
const SHADES: [u8; 4] = [238, 22, 28, 40];

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A calendar heatmap of counts per day.
#[derive(Debug, Clone, Copy)]
pub struct Heatmap<'a> {
    /// How many times something was done on each day; missing days are 0.
    pub counts: &'a BTreeMap<NaiveDate, u32>,
    /// Days skipped or paused; shown only where nothing was logged.
    pub rest: &'a BTreeMap<NaiveDate, Rest>,
    /// The last day shown; days after it in its week are left blank.
    pub today: NaiveDate,
    /// How many weeks (columns) to show, ending with the week of `today`.
    pub weeks: u32,
    /// Which weekday is the first row.
    pub week_start: WeekStart,
    /// Whether to shade with ANSI colour rather than plain glyphs.
    pub color: bool,
}

impl Heatmap<'_> {
    /// The heatmap as lines, each ending in `\n`: month labels, seven weekday
    /// rows, and a legend. Trailing blanks are trimmed. Empty if `weeks` is 0.
    pub fn render(&self) -> String {
        if self.weeks == 0 {
            return String::new();
        }
        let last = self.week_start.week_of(self.today);
        // `None` only for weeks before the start of chrono's calendar.
        let columns: Vec<Option<NaiveDate>> = (0..self.weeks)
            .rev()
            .map(|back| last.checked_sub_days(Days::new(7 * u64::from(back))))
            .collect();

        let mut out = String::new();
        out.push_str(self.month_line(&columns).trim_end());
        out.push('\n');
        for row in 0..7u64 {
            let mut line = String::new();
            let label = (0..row).fold(self.week_start.weekday(), |day, _| day.succ());
            let _ = write!(line, "{label:<LABEL_WIDTH$}");
            for week in &columns {
                line.push(' ');
                match week.and_then(|w| w.checked_add_days(Days::new(row))) {
                    Some(day) if day <= self.today => {
                        if day == self.today {
                            line.pop();
                            line.push('[');
                        }
                        let count = self.counts.get(&day).copied().unwrap_or(0);
                        match self.rest.get(&day) {
                            Some(rest) if count == 0 => self.push_rest(&mut line, *rest),
                            _ => self.push_cell(&mut line, level(count)),
                        }
                        if day == self.today {
                            line.push(']');
                        }
                    }
                    _ => line.push(' '),
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push_str(&self.legend());
        out.push('\n');
        out.push_str(&self.rest_legend());
        out.push('\n');
        out
    }

    /// The widest a heatmap of `weeks` columns is, month labels included.
    pub fn width(weeks: u32) -> usize {
        // A label may start at the last column and run two past it.
        LABEL_WIDTH + 2 * weeks as usize + 2
    }

    /// Month names over the first column whose week holds the 1st, so each
    /// label sits where its month begins; the first column is labelled too
    /// when it does not crowd out the next label.
    fn month_line(&self, columns: &[Option<NaiveDate>]) -> String {
        let mut labels: Vec<(usize, u32)> = Vec::new();
        for (col, week) in columns.iter().enumerate() {
            let Some(week) = week else { continue };
            let first = (0..7)
                .filter_map(|d| week.checked_add_days(Days::new(d)))
                .find(|day| day.day() == 1 && *day <= self.today);
            if let Some(day) = first {
                labels.push((col, day.month0()));
            }
        }
        // A label is 3 characters and a column 2, so the next one must be at
        // least 2 columns on to leave a space between them.
        if labels.first().is_none_or(|&(col, _)| col >= 2)
            && let Some(week) = columns[0]
        {
            labels.insert(0, (0, week.month0()));
        }

        let mut line = " ".repeat(LABEL_WIDTH);
        for (col, month) in labels {
            let at = LABEL_WIDTH + 1 + 2 * col;
            // Never overlap; months start at least four weeks apart anyway.
            if at <= line.len() {
                continue;
            }
            line.push_str(&" ".repeat(at - line.len()));
            line.push_str(MONTHS[month as usize]);
        }
        line
    }

    fn push_cell(&self, line: &mut String, level: usize) {
        if self.color {
            let style = Style::new().fg_color(Some(Ansi256Color(SHADES[level]).into()));
            let _ = write!(line, "{style}{SQUARE}{style:#}");
        } else {
            line.push(GLYPHS[level]);
        }
    }

    fn push_rest(&self, line: &mut String, rest: Rest) {
        let glyph = match rest {
            Rest::Skipped => SKIPPED,
            Rest::Paused => PAUSED,
        };
        if self.color {
            let style = Style::new().fg_color(Some(Ansi256Color(REST_SHADE).into()));
            let _ = write!(line, "{style}{glyph}{style:#}");
        } else {
            line.push(glyph);
        }
    }

    fn rest_legend(&self) -> String {
        let mut line = " ".repeat(LABEL_WIDTH + 1);
        self.push_rest(&mut line, Rest::Skipped);
        line.push_str(" skipped  ");
        self.push_rest(&mut line, Rest::Paused);
        line.push_str(" paused  [ ] today");
        line
    }

    fn legend(&self) -> String {
        let mut line = " ".repeat(LABEL_WIDTH + 1);
        line.push_str("less");
        for level in 0..GLYPHS.len() {
            line.push(' ');
            self.push_cell(&mut line, level);
        }
        line.push_str(" more");
        line
    }
}

/// The shade for a day's count: 0, 1, 2, or 3 for three and more.
fn level(count: u32) -> usize {
    count.min(3) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    static NO_REST: BTreeMap<NaiveDate, Rest> = BTreeMap::new();

    fn map(counts: &BTreeMap<NaiveDate, u32>, today: NaiveDate, weeks: u32) -> Heatmap<'_> {
        Heatmap {
            counts,
            rest: &NO_REST,
            today,
            weeks,
            week_start: WeekStart::Monday,
            color: false,
        }
    }

    /// The character at a column's cell in a line, if the line reaches it.
    fn cell(line: &str, col: usize) -> Option<char> {
        line.chars().nth(LABEL_WIDTH + 1 + 2 * col)
    }

    #[test]
    fn small_example() {
        // Wednesday 2026-12-02; the three weeks start Nov 16, 23 and 30.
        let today = date(2026, 12, 2);
        let counts = BTreeMap::from([
            (date(2026, 11, 16), 1),
            (date(2026, 11, 18), 2),
            (date(2026, 11, 22), 7),
            (date(2026, 11, 25), 3),
            (date(2026, 12, 1), 1),
            (date(2026, 12, 2), 2),
            (date(2026, 12, 3), 5), // the future: not shown
        ]);
        let expected = "    Nov Dec
Mon ░ · ·
Tue · · ░
Wed ▒ ▓[▒]
Thu · ·
Fri · ·
Sat · ·
Sun ▓ ·
    less · ░ ▒ ▓ more
    - skipped  ‖ paused  [ ] today
";
        assert_eq!(map(&counts, today, 3).render(), expected);
    }

    #[test]
    fn rest_reads_apart_from_a_miss_and_today_is_bracketed() {
        let today = date(2026, 11, 25); // a Wednesday
        let counts = BTreeMap::from([(date(2026, 11, 17), 1)]);
        let rest = BTreeMap::from([
            (date(2026, 11, 16), Rest::Skipped),
            (date(2026, 11, 17), Rest::Skipped), // logged after all: logged
            (date(2026, 11, 23), Rest::Paused),
            (date(2026, 11, 24), Rest::Paused),
        ]);
        let mut heatmap = map(&counts, today, 2);
        heatmap.rest = &rest;
        let out = heatmap.render();
        let rows: Vec<&str> = out.lines().skip(1).take(7).collect();
        assert_eq!(rows[0], "Mon - ‖");
        assert_eq!(rows[1], "Tue ░ ‖");
        assert_eq!(rows[2], "Wed ·[·]");
        assert!(out.contains("- skipped  ‖ paused  [ ] today"));
        heatmap.color = true;
        let coloured = heatmap.render();
        assert!(coloured.contains("\x1b[38;5;67m‖"), "{coloured}");
    }

    #[test]
    fn has_one_column_per_week() {
        let counts = BTreeMap::new();
        for weeks in [1, 2, 13, 26, 53] {
            let out = map(&counts, date(2026, 3, 15), weeks).render();
            // Today is a Sunday, so every row is full.
            for line in out.lines().skip(1).take(7) {
                // Today's closing bracket runs one past its column.
                let today = usize::from(line.ends_with(']'));
                assert_eq!(
                    line.chars().count(),
                    LABEL_WIDTH + 2 * weeks as usize + today
                );
                assert_eq!(
                    line.chars().skip(LABEL_WIDTH).filter(|&c| c == '·').count(),
                    weeks as usize
                );
            }
        }
        let wide = map(&counts, date(2026, 3, 15), 26).render();
        assert!(wide.lines().all(|line| line.chars().count() <= 80));
        assert_eq!(map(&counts, date(2026, 3, 15), 0).render(), "");
    }

    #[test]
    fn today_is_last_in_its_row_and_later_days_are_blank() {
        let today = date(2026, 11, 26); // a Thursday
        let mut counts = BTreeMap::from([(today, 3)]);
        for d in 27..=29 {
            counts.insert(date(2026, 11, d), 3);
        }
        let weeks = 10;
        let out = map(&counts, today, weeks).render();
        let rows: Vec<&str> = out.lines().skip(1).take(7).collect();
        assert!(rows[3].starts_with("Thu"));
        assert_eq!(cell(rows[3], weeks as usize - 1), Some('▓'));
        assert_eq!(rows[3].matches('▓').count(), 1);
        for row in &rows[4..] {
            assert_eq!(cell(row, weeks as usize - 1), None, "{row}");
            assert!(!row.contains('▓'));
        }
        for row in &rows[..3] {
            assert_eq!(cell(row, weeks as usize - 1), Some('·'));
        }
    }

    #[test]
    fn month_labels_sit_over_the_first_of_the_month_without_overlap() {
        let today = date(2026, 11, 26);
        let weeks = 26;
        let out = map(&BTreeMap::new(), today, weeks).render();
        let header = out.lines().next().unwrap();
        let first_week = WeekStart::Monday.week_of(today) - Days::new(7 * (weeks as u64 - 1));
        let mut seen = Vec::new();
        let mut end = 0;
        let starts = (0..header.len()).filter(|&i| {
            header.as_bytes()[i] != b' ' && (i == 0 || header.as_bytes()[i - 1] == b' ')
        });
        for at in starts {
            let label = header[at..].split(' ').next().unwrap();
            assert!(MONTHS.contains(&label), "{header:?}");
            assert!(at > end, "labels touch: {header:?}");
            end = at + label.len();
            assert_eq!((at - LABEL_WIDTH - 1) % 2, 0, "label off a column");
            let col = (at - LABEL_WIDTH - 1) / 2;
            let week = first_week + Days::new(7 * col as u64);
            // Here every label, the first too, marks a 1st.
            let first = (0..7)
                .map(|d| week + Days::new(d))
                .find(|d| d.day() == 1)
                .unwrap();
            assert_eq!(MONTHS[first.month0() as usize], label);
            seen.push(label);
        }
        // The first week is that of Mon 1 June.
        assert_eq!(first_week, date(2026, 6, 1));
        assert_eq!(seen, ["Jun", "Jul", "Aug", "Sep", "Oct", "Nov"]);
    }

    #[test]
    fn first_column_label_gives_way_to_a_month_start() {
        // The first column is the week of May 25; June starts in the next.
        let today = date(2026, 6, 14);
        let out = map(&BTreeMap::new(), today, 3).render();
        assert_eq!(out.lines().next().unwrap(), "      Jun");
    }

    #[test]
    fn future_month_start_is_not_labelled() {
        // Today is Mon Nov 30; Dec 1 is in this week but still ahead.
        let out = map(&BTreeMap::new(), date(2026, 11, 30), 2).render();
        assert_eq!(out.lines().next().unwrap(), "    Nov");
    }

    #[test]
    fn sunday_start_puts_sunday_first() {
        let today = date(2026, 11, 29); // a Sunday: a new week, one cell
        let counts = BTreeMap::from([(today, 1)]);
        let mut heatmap = map(&counts, today, 4);
        heatmap.week_start = WeekStart::Sunday;
        let out = heatmap.render();
        let rows: Vec<&str> = out.lines().skip(1).take(7).collect();
        let labels: Vec<&str> = rows.iter().map(|r| &r[..3]).collect();
        assert_eq!(labels, ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]);
        assert_eq!(cell(rows[0], 3), Some('░'));
        assert!(rows[1..].iter().all(|r| cell(r, 3).is_none()));
    }

    #[test]
    fn colour_only_when_asked() {
        let today = date(2026, 11, 26);
        let counts = BTreeMap::from([(today, 2)]);
        let plain = map(&counts, today, 8).render();
        assert!(!plain.contains('\x1b'));
        assert!(plain.contains("less · ░ ▒ ▓ more"));

        let mut heatmap = map(&counts, today, 8);
        heatmap.color = true;
        let coloured = heatmap.render();
        assert!(coloured.contains("\x1b[38;5;28m■"));
        assert!(coloured.contains("\x1b[38;5;238m■"));
        assert!(!GLYPHS.iter().any(|&g| coloured.contains(g)));
        // Same layout once the escapes are gone.
        let stripped = crate::render::sanitize::sanitize(&coloured);
        assert_eq!(stripped, plain.replace(GLYPHS, "■"));
    }
}
