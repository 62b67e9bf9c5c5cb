//! In-process benchmarks of the hot paths behind DESIGN.md §6, each at
//! 1,000, 10,000 and 100,000 entries: opening the journal (index read and
//! view), the days of every person, streaks and strength, export and import
//! with signing (and `log`, `stats` and `today` as whole commands, so that
//! a regression shows here before it shows in `bench/run`).
//!
//! The journals come from `bench/fixture`: both partners' halves (same
//! seed, so shared moments fall on the same days) imported into one data
//! directory, which costs what a couple's journal costs to read. Every size
//! keeps the fixture's density (about 27 entries a day) and grows the span
//! of history: 1,000 entries are five weeks, 10,000 a year, 100,000 ten
//! years. Pairing and sync are measured whole by `bench/run`.
//!
//! Commands run through their `cmd_*` functions with a fixed "now", so
//! results do not depend on the clock (`SAFE_NOW` cannot be set from here
//! without `unsafe`). `cargo bench --bench journal -- import` runs one group.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate};
use clap::Parser;
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};

use safe::cli::{Cli, Command};
use safe::commands::Context;
use safe::domain::goal::{Goal, WeekStart};
use safe::domain::practice::BUILTIN;
use safe::domain::{streak, strength};
use safe::journal::view::View;
use safe::store::DataDir;

/// "Now" for every run: the fixture's ten years end on this evening.
const NOW: &str = "2026-11-27T20:00:00+01:00";
const SIZES: [usize; 3] = [1_000, 10_000, 100_000];
const SEED: &str = "1";

fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(NOW).expect("a valid time")
}

/// Run one command line against `dir` at the fixed "now", output discarded.
/// Only the commands these benches use are dispatched.
fn run_at(dir: &Path, argv: &[&str]) -> safe::error::Result<()> {
    let cli = Cli::parse_from(std::iter::once("safe").chain(argv.iter().copied()));
    let mut out = std::io::sink();
    let now = now();
    let ctx = &mut Context {
        dir: DataDir::new(dir.to_path_buf()),
        now,
        today: now.date_naive(),
        color: false,
        out: &mut out,
    };
    use safe::commands as c;
    match cli.command.expect("the benches name a command") {
        Command::Init(args) => c::init::cmd_init(ctx, args),
        Command::Log(args) => c::log::cmd_log(ctx, args),
        Command::Import(args) => c::import::cmd_import(ctx, args),
        Command::Export(args) => c::export::cmd_export(ctx, args),
        Command::Stats(args) => c::stats::cmd_stats(ctx, args),
        Command::Today(args) => c::today::cmd_today(ctx, args),
        other => panic!("the benches do not run {other:?}"),
    }
}

/// One partner's half of a journal of `entries` lines, from `bench/fixture`.
fn fixture(person: &str, entries: usize, out: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("bench")
        .join("fixture");
    // The fixture's density: 5,000 entries per partner per year.
    let years = format!("{}", entries as f64 / 2.0 / 5000.0);
    let half = (entries / 2).to_string();
    let output = Process::new("python3")
        .arg(&script)
        .args([
            "--person",
            person,
            "--years",
            &years,
            "--entries",
            &half,
            "--seed",
            SEED,
        ])
        .output()
        .expect("python3 runs bench/fixture");
    assert!(
        output.status.success(),
        "bench/fixture failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::write(out, output.stdout).expect("write the fixture");
}

/// A journal of one size, on disk.
struct Journal {
    _tmp: tempfile::TempDir,
    /// Both halves imported into one data directory.
    couple: PathBuf,
    /// Every line of both halves: what the import bench reads.
    lines: PathBuf,
    /// Per practice: (goal, logged days, bridged days).
    days: Vec<(Goal, Vec<NaiveDate>, Vec<NaiveDate>)>,
}

fn build(entries: usize) -> Journal {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let root = tmp.path();
    let (a_lines, b_lines, lines) = (
        root.join("a.jsonl"),
        root.join("b.jsonl"),
        root.join("all.jsonl"),
    );
    fixture("A", entries, &a_lines);
    fixture("B", entries, &b_lines);
    let mut all = std::fs::read(&a_lines).expect("read a");
    all.extend(std::fs::read(&b_lines).expect("read b"));
    std::fs::write(&lines, all).expect("write all");

    let couple = root.join("couple");
    run_at(&couple, &["init", "--name", "Alex"]).expect("init");
    run_at(&couple, &["import", lines.to_str().expect("utf-8 path")]).expect("import");

    let view = open_view(&couple);
    let index = view.day_index();
    let today = now().date_naive();
    let person = index.person(&view.me);
    let days = BUILTIN
        .iter()
        .map(|(practice, _, goal, _)| {
            (
                *goal,
                person.logged_days(practice).to_vec(),
                person.bridged(practice, today),
            )
        })
        .collect();
    Journal {
        _tmp: tmp,
        couple,
        lines,
        days,
    }
}

/// What every command starts with: the lock, the journal brought up to
/// date with its logs, and the view of its fold.
fn open_view(dir: &Path) -> View {
    let data = DataDir::new(dir.to_path_buf());
    let lock = data.lock().expect("lock");
    let ms = u64::try_from(now().timestamp_millis()).expect("after 1970");
    let journal = safe::journal::Journal::open(dir, ms, &lock).expect("open");
    let me = journal.me().expect("in the journal").to_string();
    View::new(journal.state().expect("state"), &me)
}

fn benches(c: &mut Criterion) {
    let journals: Vec<(usize, Journal)> = SIZES.iter().map(|&n| (n, build(n))).collect();

    let mut group = c.benchmark_group("open_view");
    for (n, j) in &journals {
        group.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter(|| black_box(open_view(&j.couple).items.len()));
        });
    }
    group.finish();

    let mut group = c.benchmark_group("day_index");
    for (n, j) in &journals {
        let view = open_view(&j.couple);
        group.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter(|| black_box(view.day_index().people.len()));
        });
    }
    group.finish();

    let today = now().date_naive();
    let mut group = c.benchmark_group("streak_all_practices");
    for (n, j) in &journals {
        group.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter(|| {
                for (goal, logged, bridged) in &j.days {
                    black_box(streak::streak(
                        *goal,
                        logged,
                        bridged,
                        WeekStart::Monday,
                        today,
                    ));
                }
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("strength_all_practices");
    for (n, j) in &journals {
        group.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter(|| {
                for (goal, logged, bridged) in &j.days {
                    black_box(strength::strength(*goal, logged, bridged, today));
                }
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("export_jsonl");
    for (n, j) in &journals {
        group.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter(|| run_at(&j.couple, &["export"]).expect("export"));
        });
    }
    group.finish();

    let mut group = c.benchmark_group("import");
    for (n, j) in &journals {
        let lines = j.lines.to_str().expect("utf-8 path").to_string();
        group.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter_batched(
                || {
                    let tmp = tempfile::tempdir().expect("a temporary directory");
                    run_at(tmp.path(), &["init", "--name", "Alex"]).expect("init");
                    tmp
                },
                |tmp| {
                    run_at(tmp.path(), &["import", &lines]).expect("import");
                    tmp
                },
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();

    // `safe log` as a whole: open the journal, append one signed line
    // durably, feed the index and work out the streak it prints. Each run
    // adds an entry; a few dozen on top of the fixture change nothing.
    let mut group = c.benchmark_group("log");
    for (n, j) in &journals {
        group.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter(|| run_at(&j.couple, &["log", "appreciation", "--again"]).expect("log"));
        });
    }
    group.finish();

    // The commands themselves, with a warm index, as a user would have it.
    for (name, argv) in [
        ("stats_all", &["stats", "--all"][..]),
        ("stats_week", &["stats", "--week"][..]),
        ("today", &["today"][..]),
    ] {
        let mut group = c.benchmark_group(name);
        for (n, j) in &journals {
            run_at(&j.couple, argv).expect("warm the index");
            group.bench_function(BenchmarkId::from_parameter(n), |bench| {
                bench.iter(|| run_at(&j.couple, argv).expect(name));
            });
        }
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = journal;
    config = config();
    targets = benches
}
criterion_main!(journal);
