//! In-process benchmarks of the hot paths behind DESIGN.md §6, each at
//! 1,000, 10,000 and 100,000 entries: loading a month and the whole journal,
//! streaks and strength, the merge of two replicas, export and import (and
//! `log`, `stats` and `today` as whole commands, so that a regression shows
//! here before it shows in `bench/run`).
//!
//! The journals are made the way a couple's would be: `bench/fixture` writes
//! each partner's half (same seed, so shared moments fall on the same days),
//! each half is imported into its own data directory, and the two shared
//! journals are merged into the first partner's with the same CRDT merge that
//! `safe sync` uses, without git. Every size keeps the fixture's density
//! (about 27 entries a day for the couple) and grows the span of history:
//! 1,000 entries are five weeks, 10,000 a year, 100,000 ten years.
//!
//! Commands run through their `cmd_*` functions with a fixed "now", so
//! results do not depend on the clock (`SAFE_NOW` cannot be set from here
//! without `unsafe`). `cargo bench --bench journal -- import` runs one group.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate};
use clap::Parser;
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};

use safe::cli::{Cli, Command};
use safe::commands::Context;
use safe::domain::entry::{ALL_PRACTICES, Entry, Kind};
use safe::domain::goal::{Goal, WeekStart};
use safe::domain::month::{MonthFile, YearMonth};
use safe::domain::practice::BUILTIN;
use safe::domain::{streak, strength};
use safe::store::{DataDir, Side};

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

/// A couple's journal of one size, on disk and in memory.
struct Journal {
    _tmp: tempfile::TempDir,
    /// Both partners' entries, as the first partner sees them after a sync.
    couple: PathBuf,
    /// Every line of both halves: what the import bench reads.
    lines: PathBuf,
    /// Each partner's shared months before they ever synced: the two
    /// replicas the merge bench joins.
    replicas: Vec<(MonthFile, MonthFile)>,
    /// Per person and practice: (goal, logged days, bridged days).
    days: Vec<(Goal, Vec<NaiveDate>, Vec<NaiveDate>)>,
    last_month: YearMonth,
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

    let (a, b, couple) = (root.join("a"), root.join("b"), root.join("couple"));
    for (dir, name, half) in [(&a, "Alex", &a_lines), (&b, "Sam", &b_lines)] {
        run_at(dir, &["init", "--name", name]).expect("init");
        run_at(dir, &["import", half.to_str().expect("utf-8 path")]).expect("import");
    }
    // The couple's journal is A's after a sync: a copy of A's, with B's
    // shared months merged in.
    copy_dir(&a, &couple);

    let (a_dir, b_dir, couple_dir) = (
        DataDir::new(a),
        DataDir::new(b),
        DataDir::new(couple.clone()),
    );
    let months: Vec<YearMonth> = a_dir
        .months()
        .expect("months")
        .union(&b_dir.months().expect("months"))
        .copied()
        .collect();
    let mut replicas = Vec::new();
    let lock = couple_dir.lock().expect("lock");
    let mut batch = lock.batch();
    for &month in &months {
        let mine = a_dir.read_month(Side::Shared, month).expect("read");
        let theirs = b_dir.read_month(Side::Shared, month).expect("read");
        let mut merged = mine.merge(&theirs);
        couple_dir
            .write_month(Side::Shared, month, &mut merged, &mut batch)
            .expect("write");
        replicas.push((mine, theirs));
    }
    let people = a_dir
        .read_people()
        .expect("people")
        .merge(&b_dir.read_people().expect("people"));
    couple_dir
        .write_people(&people, &mut batch)
        .expect("people");
    batch.commit().expect("write");
    drop(lock);

    // Days per person and practice, as the statistics see them.
    let mut logged: BTreeMap<(String, String), Vec<NaiveDate>> = BTreeMap::new();
    let mut bridged: BTreeMap<(String, String), Vec<NaiveDate>> = BTreeMap::new();
    let mut pauses: Vec<Entry> = Vec::new();
    for &month in &months {
        for side in [Side::Shared, Side::Private] {
            for e in couple_dir.read_month(side, month).expect("read").live() {
                let key = (e.author.clone(), e.practice.clone());
                match e.kind {
                    Kind::Log => logged.entry(key).or_default().push(e.day),
                    Kind::Skip => bridged.entry(key).or_default().push(e.day),
                    Kind::Pause => pauses.push(e.clone()),
                }
            }
        }
    }
    let authors: Vec<String> = people.people.iter().map(|p| p.id.clone()).collect();
    let mut days = Vec::new();
    for author in &authors {
        for (practice, _, goal, _) in BUILTIN {
            let key = (author.clone(), practice.to_string());
            let mut l = logged.remove(&key).unwrap_or_default();
            let mut b = bridged.remove(&key).unwrap_or_default();
            for p in pauses.iter().filter(|p| {
                &p.author == author && (p.practice == *practice || p.practice == ALL_PRACTICES)
            }) {
                b.extend(p.days());
            }
            for v in [&mut l, &mut b] {
                v.sort_unstable();
                v.dedup();
            }
            days.push((*goal, l, b));
        }
    }
    Journal {
        _tmp: tmp,
        couple,
        lines,
        replicas,
        days,
        last_month: YearMonth::of(now().date_naive()),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create");
    for item in std::fs::read_dir(from).expect("list") {
        let item = item.expect("list");
        let target = to.join(item.file_name());
        if item.file_type().expect("type").is_dir() {
            copy_dir(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), target).expect("copy");
        }
    }
}

fn benches(c: &mut Criterion) {
    let journals: Vec<(usize, Journal)> = SIZES.iter().map(|&n| (n, build(n))).collect();

    let mut group = c.benchmark_group("load_month");
    for (n, j) in &journals {
        let dir = DataDir::new(j.couple.clone());
        group.bench_with_input(
            BenchmarkId::from_parameter(n),
            &j.last_month,
            |bench, &month| {
                bench.iter(|| {
                    let shared = dir.read_month(Side::Shared, month).expect("read");
                    let private = dir.read_month(Side::Private, month).expect("read");
                    black_box((shared.entries.len(), private.entries.len()))
                });
            },
        );
    }
    group.finish();

    let mut group = c.benchmark_group("load_all");
    for (n, j) in &journals {
        let dir = DataDir::new(j.couple.clone());
        group.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter(|| {
                let mut count = 0;
                for month in dir.months().expect("months") {
                    for side in [Side::Shared, Side::Private] {
                        count += dir.read_month(side, month).expect("read").entries.len();
                    }
                }
                black_box(count)
            });
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

    let mut group = c.benchmark_group("merge_replicas");
    for (n, j) in &journals {
        group.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter(|| {
                let mut count = 0;
                for (mine, theirs) in &j.replicas {
                    count += mine.merge(theirs).entries.len();
                }
                black_box(count)
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

    // `safe log` as a whole: read the month, add the entry, write it back
    // durably, refresh the day cache and work out the streak it prints. The
    // month is put back before each run so that it does not grow.
    let mut group = c.benchmark_group("log");
    for (n, j) in &journals {
        let dir = DataDir::new(j.couple.clone());
        let month = dir.month_path(Side::Shared, j.last_month);
        let saved = std::fs::read(&month).expect("read the month");
        group.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter_batched(
                || std::fs::write(&month, &saved).expect("restore the month"),
                |()| run_at(&j.couple, &["log", "appreciation", "--again"]).expect("log"),
                BatchSize::PerIteration,
            );
        });
        std::fs::write(&month, &saved).expect("restore the month");
    }
    group.finish();

    // The commands themselves, where they are built: a warm cache, as a
    // user would have it after the first run.
    for (name, argv) in [
        ("stats_all", &["stats", "--all"][..]),
        ("stats_week", &["stats", "--week"][..]),
        ("today", &["today"][..]),
    ] {
        if let Err(err) = run_at(&journals[0].1.couple, argv) {
            eprintln!("skipping {name}: {err}");
            continue;
        }
        let mut group = c.benchmark_group(name);
        for (n, j) in &journals {
            run_at(&j.couple, argv).expect("warm the cache");
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
