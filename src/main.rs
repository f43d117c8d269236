//! The `driftwatch` command line: parses arguments, calls into the library,
//! and maps outcomes to exit codes (0 done, 1 error, 2 drift with
//! `--fail-on-drift`).

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use driftwatch::baseline::Baseline;
use driftwatch::baseline::build::{BuildOptions, build};
use driftwatch::baseline::profile::ProfileLimits;
use driftwatch::baseline::quality::{QualitySpec, Task};
use driftwatch::config;
use driftwatch::daemon::{Daemon, DaemonOptions};
use driftwatch::detect::{DetectOptions, TestName, detect};
use driftwatch::report::{read_sample, render_table};
use driftwatch::schema::Kind;
use driftwatch::schema::text::TextPattern;
use driftwatch::stats::correction::Correction;
use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Drift monitoring for models in production.
#[derive(Parser)]
#[command(name = "driftwatch", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Training baselines.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Compare a current data file with a baseline and say what drifted.
    Report(ReportArgs),
    /// Validate a daemon config file without starting anything; every
    /// problem is printed with its key path.
    CheckConfig(CheckConfigArgs),
    /// Run the daemon: gRPC ingest, live windows, drift reports, Prometheus
    /// metrics and alerts. SIGTERM or SIGINT drains and exits 0.
    Serve(ServeArgs),
    /// Send synthetic traffic for one model (made from its baseline) to a
    /// running daemon and print the rate it takes it at.
    Loadgen(driftwatch::loadgen::LoadgenArgs),
    /// See driftwatch work, start to finish, on loopback: train a baseline,
    /// start the daemon, stream traffic that drifts, watch the rule fire
    /// and a webhook receive it, then stop cleanly.
    Demo(DemoArgs),
}

#[derive(Args)]
struct DemoArgs {
    /// Pause between windows of traffic, in milliseconds.
    #[arg(long, default_value_t = 700)]
    pace_ms: u64,
    /// Keep the demo's files (training data, baseline, config, data
    /// directory) in this directory instead of a temporary one.
    #[arg(long)]
    keep: Option<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    /// The config file (TOML); without it, the embedded default (see
    /// `check-config --print-default`).
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Args)]
struct CheckConfigArgs {
    /// The config file (TOML).
    #[arg(
        required_unless_present = "print_default",
        conflicts_with = "print_default"
    )]
    file: Option<PathBuf>,
    /// Print the embedded default config (what `serve` runs on without
    /// --config) and exit.
    #[arg(long)]
    print_default: bool,
}

#[derive(Subcommand)]
enum BaselineCommand {
    /// Build a baseline from a reference data file (CSV, JSON Lines or Parquet) in one pass.
    Build(BuildArgs),
}

#[derive(Args)]
struct BuildArgs {
    /// The reference data: .csv (with a header), .jsonl/.ndjson or .parquet.
    #[arg(long)]
    input: PathBuf,
    /// Where to write the baseline JSON.
    #[arg(long)]
    out: PathBuf,
    /// The model's name (default: the input file's stem).
    #[arg(long)]
    model: Option<String>,
    /// Override a column's inferred kind: COLUMN=numeric|categorical|text|embedding (repeatable).
    #[arg(long = "kind", value_name = "COLUMN=KIND", value_parser = parse_kind)]
    kinds: Vec<(String, Kind)>,
    /// Vectors of each embedding column kept for the MMD test.
    #[arg(long, default_value_t = ProfileLimits::default().embedding_sample)]
    embedding_sample: usize,
    /// Leave a column out of the baseline (repeatable).
    #[arg(long = "ignore", value_name = "COLUMN")]
    ignore: Vec<String>,
    /// Measure every text column by a regex's rate too: 1 per text it matches, else 0, tested
    /// as the descriptor `COLUMN:NAME` (repeatable; e.g. refusal='(?i)\bI (cannot|can.t)\b').
    #[arg(long = "text-pattern", value_name = "NAME=REGEX")]
    text_patterns: Vec<TextPattern>,
    /// Keep every value of numeric columns with at most this many rows (tests are then exact).
    #[arg(long, default_value_t = ProfileLimits::default().exact_limit)]
    exact_limit: u64,
    /// Number of quantile bins for PSI and the binned distances.
    #[arg(long, default_value_t = ProfileLimits::default().bins, value_parser = parse_bins)]
    bins: usize,
    /// Keep at most this many categories per column; the rest are merged into `__other__`.
    #[arg(long, default_value_t = ProfileLimits::default().max_categories)]
    max_categories: usize,
    /// The ground-truth column: store the model's quality on these rows (needs --prediction).
    #[arg(long, requires = "prediction")]
    label: Option<String>,
    /// The model's prediction column (needs --label).
    #[arg(long, requires = "label")]
    prediction: Option<String>,
    /// The positive class's probability column, for ROC AUC, log loss and the label-free estimate.
    #[arg(long, requires = "label")]
    score: Option<String>,
    /// binary, multiclass or regression (default: inferred from the labels).
    #[arg(long, requires = "label")]
    task: Option<Task>,
    /// Binary: the positive class (default: 1 or true).
    #[arg(long, requires = "label")]
    positive: Option<String>,
}

#[derive(Args)]
struct ReportArgs {
    /// The baseline JSON (default: the bundled example).
    #[arg(long, requires = "input")]
    baseline: Option<PathBuf>,
    /// The current data: .csv, .jsonl/.ndjson or .parquet (default: the bundled example).
    #[arg(long, requires = "baseline")]
    input: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Exit with status 2 when the dataset drifted.
    #[arg(long)]
    fail_on_drift: bool,
    /// Tests to run on every feature they apply to, replacing the default rule:
    /// ks, chi2, ztest, psi, jensenshannon (distance, natural log), kl, hellinger,
    /// wasserstein (normed by the reference std), anderson, cvm, mannwhitney.
    #[arg(long, value_delimiter = ',', value_parser = |s: &str| s.parse::<TestName>())]
    tests: Option<Vec<TestName>>,
    /// Threshold override: TEST=VALUE (repeatable), e.g. psi=0.2.
    #[arg(long = "threshold", value_name = "TEST=VALUE", value_parser = parse_threshold)]
    thresholds: Vec<(TestName, f64)>,
    /// Correction of the deciding p-values across features: none, bonferroni or bh.
    #[arg(long, default_value = "none", value_parser = |s: &str| s.parse::<Correction>())]
    correction: Correction,
    /// Features with fewer current values are reported as insufficient data.
    #[arg(long, default_value_t = 1)]
    min_samples: u64,
    /// Share of drifted features at which the dataset counts as drifted.
    #[arg(long, default_value_t = 0.5)]
    drift_share: f64,
}

fn parse_kind(s: &str) -> Result<(String, Kind), String> {
    let (column, kind) = s.rsplit_once('=').ok_or("expected COLUMN=KIND")?;
    Ok((column.to_owned(), kind.parse()?))
}

fn parse_bins(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (2..=1000).contains(&n) => Ok(n),
        _ => Err(format!("{s:?}: expected a whole number from 2 to 1000")),
    }
}

fn parse_threshold(s: &str) -> Result<(TestName, f64), String> {
    let (test, value) = s.split_once('=').ok_or("expected TEST=VALUE")?;
    let value: f64 = value
        .parse()
        .map_err(|e| format!("threshold {value:?}: {e}"))?;
    Ok((test.parse()?, value))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Usage errors exit 1 so that 2 always means "drifted".
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Baseline(BaselineCommand::Build(args)) => build_baseline(args),
        Command::Report(args) => report(args),
        Command::CheckConfig(args) => check_config(args),
        Command::Serve(args) => serve(args),
        Command::Loadgen(args) => loadgen(&args),
        Command::Demo(args) => demo(args),
    }
}

fn build_baseline(args: BuildArgs) -> Result<ExitCode> {
    let model = match args.model {
        Some(m) => m,
        None => args
            .input
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned(),
    };
    let options = BuildOptions {
        input: args.input,
        model,
        kinds: args.kinds.into_iter().collect::<HashMap<_, _>>(),
        ignore: args.ignore.into_iter().collect::<HashSet<_>>(),
        limits: ProfileLimits {
            exact_limit: args.exact_limit,
            bins: args.bins,
            max_categories: args.max_categories.max(1),
            embedding_sample: args.embedding_sample,
            ..ProfileLimits::default()
        },
        text_patterns: args.text_patterns,
        quality: args.label.map(|label| QualitySpec {
            label,
            prediction: args.prediction.unwrap_or_default(),
            score: args.score,
            task: args.task,
            positive: args.positive,
        }),
    };
    let bar = progress_bar();
    let mut on_progress = |done: u64, total: Option<u64>| {
        if let Some(total) = total {
            bar.set_length(total);
        }
        bar.set_position(done);
    };
    let baseline = build(&options, &mut on_progress)?;
    bar.finish_and_clear();
    baseline.save(&args.out)?;
    eprintln!(
        "baseline for model {:?}: {} rows, {} columns ({}) -> {}",
        baseline.model,
        baseline.rows,
        baseline.columns.len(),
        kinds_summary(&baseline),
        args.out.display()
    );
    if let Some(quality) = &baseline.quality {
        let metrics: Vec<String> = (quality.metrics.iter())
            .map(|(name, value)| format!("{name} {value:.4}"))
            .collect();
        eprintln!(
            "quality ({:?}, {} rows, {} skipped): {}",
            quality.task,
            quality.rows,
            quality.skipped,
            metrics.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn progress_bar() -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("valid template"),
    );
    bar
}

fn kinds_summary(baseline: &Baseline) -> String {
    let count = |k: Kind| {
        baseline
            .columns
            .iter()
            .filter(|c| c.profile.kind() == k)
            .count()
    };
    let summary = format!(
        "{} numeric, {} categorical, {} text",
        count(Kind::Numeric),
        count(Kind::Categorical),
        count(Kind::Text)
    );
    match count(Kind::Embedding) {
        0 => summary,
        n => format!("{summary}, {n} embedding"),
    }
}

/// The bundled example used when `report` gets no files.
fn example_files() -> (PathBuf, PathBuf) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/loans");
    (dir.join("baseline.json"), dir.join("current.csv"))
}

fn report(args: ReportArgs) -> Result<ExitCode> {
    let (baseline_path, input) = match (args.baseline, args.input) {
        (Some(b), Some(i)) => (b, i),
        _ => {
            let (b, i) = example_files();
            eprintln!(
                "no --baseline/--input given: reporting on the bundled example {}",
                i.display()
            );
            (b, i)
        }
    };
    if !(args.drift_share > 0.0 && args.drift_share <= 1.0) {
        bail!(
            "--drift-share {}: expected a share in (0, 1]",
            args.drift_share
        );
    }
    let baseline = Baseline::load(&baseline_path)?;
    let sample =
        read_sample(&baseline, &input).with_context(|| format!("reading {}", input.display()))?;
    let options = DetectOptions {
        tests: args.tests,
        thresholds: args.thresholds.into_iter().collect(),
        correction: args.correction,
        min_samples: args.min_samples,
        drift_share: args.drift_share,
        ..DetectOptions::default()
    };
    let report = detect(&baseline, &sample, &options);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render_table(&report));
    }
    Ok(if args.fail_on_drift && report.drifted {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn check_config(args: CheckConfigArgs) -> Result<ExitCode> {
    // clap requires FILE unless --print-default is given, and not with it.
    let Some(file) = args.file else {
        print!("{}", config::DEFAULT_TOML);
        return Ok(ExitCode::SUCCESS);
    };
    let shown = file.display();
    match config::load(&file, &|name| std::env::var(name).ok()) {
        Ok(c) => {
            println!(
                "{shown}: ok ({} models, {} rules, {} notifiers)",
                c.models.len(),
                c.rules.len(),
                c.notifiers.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            for e in errors.0 {
                eprintln!("{shown}: {e}");
            }
            Ok(ExitCode::from(1))
        }
    }
}

fn serve(args: ServeArgs) -> Result<ExitCode> {
    init_logging("info");
    let env = |name: &str| std::env::var(name).ok();
    let loaded = match &args.config {
        Some(file) => config::load(file, &env),
        None => config::default_config(&env),
    };
    let config = match loaded {
        Ok(config) => config,
        Err(errors) => {
            let shown = args
                .config
                .as_deref()
                .map_or("the default config".into(), |f| f.display().to_string());
            for e in errors.0 {
                eprintln!("{shown}: {e}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(Daemon::serve_until_signal(config, DaemonOptions::default()))?;
    Ok(ExitCode::SUCCESS)
}

fn loadgen(args: &driftwatch::loadgen::LoadgenArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    print!("{}", runtime.block_on(driftwatch::loadgen::run(args))?);
    Ok(ExitCode::SUCCESS)
}

fn demo(args: DemoArgs) -> Result<ExitCode> {
    // The demo's own lines tell the story; the daemon speaks up only for
    // problems.
    init_logging("warn");
    let options = driftwatch::demo::DemoOptions {
        pace: std::time::Duration::from_millis(args.pace_ms),
        dir: args.keep,
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(driftwatch::demo::run(&mut std::io::stdout(), options))?;
    Ok(ExitCode::SUCCESS)
}

/// Logs to standard error, at `default` unless `RUST_LOG` says otherwise.
fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
