//! Replays container log files through the filter module the way fluent-bit
//! would run it: `tail` reads each line (docker json-file, CRI, or plain
//! text, see `rosetta_host::tail`), fluent-bit encodes the record body, and
//! the module is called through the wasm filter's contract
//! (`rosetta_host::Host`).
//!
//! ```text
//! cargo run --release --example replay -- [--config FILE] [--tag TAG]
//!     [--function NAME] [--format json|msgpack] [--module PATH]
//!     [--lines-per-sec N] LOGFILE...
//! ```
//!
//! Each kept record is printed on stdout as one line of JSON. The module's
//! own stdout and stderr, the lines fluent-bit would log, a progress bar
//! (only when stderr is a terminal) and the run summary go to stderr.
//!
//! The module sees a fresh temporary directory pre-opened as `.`: empty, or,
//! with `--config FILE`, holding every file of FILE's directory plus FILE
//! itself copied as `rosetta.toml`. Its clocks follow the system's, or,
//! with `--lines-per-sec N`, advance by 1/N s per line from the system's
//! time at the start: the lines arrive at that rate as far as the module
//! can tell (rate limits run on the host's clocks), however fast the replay
//! runs.
//!
//! Exit status: 0 once the module has loaded (records it drops or fails on
//! are counted, not fatal); 1 if it does not load or a log file cannot be
//! read; 2 for a bad command line.

use rosetta_host::msgpack::decode_one;
use rosetta_host::tail::{split_lines, tag_for_path, tail_line};
use rosetta_host::{
    EventFormat, Host, HostConfig, HostError, PreopenDir, Stats, VirtualClock, to_fluent_bit_json,
    to_msgpack,
};
use std::fmt;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const DEFAULT_MODULE: &str = "target/wasm32-wasip1/release/rosetta.wasm";
const USAGE: &str = "usage: replay [--config FILE] [--tag TAG] [--function NAME] \
                     [--format json|msgpack] [--module PATH] [--lines-per-sec N] LOGFILE...";

/// The command line.
struct Options {
    config: Option<PathBuf>,
    tag: Option<String>,
    function: String,
    format: EventFormat,
    module: PathBuf,
    /// The rate the host's clocks say the lines arrive at (`None`: as the
    /// replay reads them).
    lines_per_sec: Option<u32>,
    logs: Vec<PathBuf>,
}

/// Why a replay could not run.
#[derive(Debug)]
enum ReplayError {
    Usage(String),
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    Load(HostError),
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Usage(message) => write!(f, "{message}\n{USAGE}"),
            ReplayError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            ReplayError::Load(e) => write!(f, "the module did not load: {e}"),
        }
    }
}

impl std::error::Error for ReplayError {}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, ReplayError> {
    let mut options = Options {
        config: None,
        tag: None,
        function: rosetta_host::DEFAULT_FUNCTION.to_string(),
        format: EventFormat::Json,
        module: PathBuf::from(DEFAULT_MODULE),
        lines_per_sec: None,
        logs: Vec::new(),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| ReplayError::Usage(format!("{name} needs a value")))
        };
        match arg.as_str() {
            "--config" => options.config = Some(PathBuf::from(value("--config")?)),
            "--tag" => options.tag = Some(value("--tag")?),
            "--function" => options.function = value("--function")?,
            "--module" => options.module = PathBuf::from(value("--module")?),
            "--lines-per-sec" => {
                let text = value("--lines-per-sec")?;
                match text.parse::<u32>() {
                    Ok(n) if n > 0 => options.lines_per_sec = Some(n),
                    _ => {
                        return Err(ReplayError::Usage(format!(
                            "--lines-per-sec needs a positive integer, not {text:?}"
                        )));
                    }
                }
            }
            "--format" => {
                options.format = match value("--format")?.as_str() {
                    "json" => EventFormat::Json,
                    "msgpack" => EventFormat::Msgpack,
                    other => return Err(ReplayError::Usage(format!("unknown format {other:?}"))),
                }
            }
            "-h" | "--help" => {
                return Err(ReplayError::Usage(
                    "replays log files through the filter module".into(),
                ));
            }
            flag if flag.starts_with("--") => {
                return Err(ReplayError::Usage(format!("unknown option {flag}")));
            }
            _ => options.logs.push(PathBuf::from(arg)),
        }
    }
    if options.logs.is_empty() {
        return Err(ReplayError::Usage("no log file given".to_string()));
    }
    Ok(options)
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ReplayError {
    let path = path.to_path_buf();
    move |source| ReplayError::Io { path, source }
}

/// A temporary directory, removed when dropped.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn create() -> Result<ScratchDir, ReplayError> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let path =
            std::env::temp_dir().join(format!("rosetta-replay-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|source| ReplayError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(ScratchDir(path))
    }

    /// Copies the regular files of `config`'s directory, then `config` as
    /// `rosetta.toml`.
    fn fill_from(&self, config: &Path) -> Result<(), ReplayError> {
        let parent = config
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        for entry in std::fs::read_dir(parent).map_err(io_error(parent))? {
            let entry = entry.map_err(io_error(parent))?;
            if entry
                .file_type()
                .map_err(io_error(&entry.path()))?
                .is_file()
            {
                std::fs::copy(entry.path(), self.0.join(entry.file_name()))
                    .map_err(io_error(&entry.path()))?;
            }
        }
        std::fs::copy(config, self.0.join("rosetta.toml")).map_err(io_error(config))?;
        Ok(())
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `\r`-redrawn progress line on stderr, shown only on a terminal.
struct Progress {
    enabled: bool,
    total_bytes: u64,
    last_drawn: Instant,
}

impl Progress {
    fn new(total_bytes: u64) -> Progress {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            total_bytes,
            last_drawn: Instant::now(),
        }
    }

    fn update(&mut self, done_bytes: u64, records: u64) {
        if !self.enabled || self.last_drawn.elapsed() < Duration::from_millis(100) {
            return;
        }
        self.last_drawn = Instant::now();
        let fraction = if self.total_bytes == 0 {
            1.0
        } else {
            done_bytes as f64 / self.total_bytes as f64
        };
        let width = 30usize;
        let filled = ((fraction * width as f64) as usize).min(width);
        eprint!(
            "\r[{}{}] {:>3.0}% {records} records",
            "#".repeat(filled),
            ".".repeat(width - filled),
            fraction * 100.0
        );
    }

    fn finish(&self) {
        if self.enabled {
            eprint!("\r{}\r", " ".repeat(60));
        }
    }
}

fn summary(stats: &Stats) -> String {
    let grown = stats.memory_now.saturating_sub(stats.memory_at_start);
    format!(
        "records in: {}  out: {}  dropped: {}  errors: {}\n\
         fuel per record: mean {:.0}, max {}\n\
         linear memory: start {} bytes, end {} bytes (+{grown})",
        stats.records_in,
        stats.kept,
        stats.dropped,
        stats.errors,
        stats.fuel_per_record(),
        stats.max_fuel,
        stats.memory_at_start,
        stats.memory_now,
    )
}

/// The JSON line printed for a kept answer.
fn kept_line(format: EventFormat, raw: &[u8]) -> Vec<u8> {
    match format {
        EventFormat::Json => raw.to_vec(),
        EventFormat::Msgpack => match decode_one(raw).ok().and_then(|d| d.body) {
            Some(body) => to_fluent_bit_json(&body),
            None => b"{\"replay\":\"answer nests too deep to print\"}".to_vec(),
        },
    }
}

fn run(options: Options) -> Result<Stats, ReplayError> {
    let scratch = ScratchDir::create()?;
    if let Some(config) = &options.config {
        scratch.fill_from(config)?;
    }
    let clock = VirtualClock::starting_now();
    let config = HostConfig {
        function: options.function.clone(),
        accessible_paths: Vec::new(),
        mapped_dirs: vec![PreopenDir {
            host: scratch.0.clone(),
            guest: ".".to_string(),
        }],
        event_format: options.format,
        clock: clock.clone(),
        passthrough_output: true,
        ..HostConfig::new(&options.module)
    };
    let mut host = Host::new(config).map_err(ReplayError::Load)?;

    let total_bytes = options
        .logs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let mut progress = Progress::new(total_bytes);
    let started = Instant::now();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut done_bytes = 0u64;
    'files: for path in &options.logs {
        let data = std::fs::read(path).map_err(|source| ReplayError::Io {
            path: path.clone(),
            source,
        })?;
        let tag = options.tag.clone().unwrap_or_else(|| tag_for_path(path));
        for line in split_lines(&data) {
            match options.lines_per_sec {
                Some(n) => clock.advance(Duration::from_secs(1) / n),
                None => clock.follow_system(started),
            }
            let record = tail_line(line, clock.wall());
            let encoded = match options.format {
                EventFormat::Json => to_fluent_bit_json(&record.body),
                EventFormat::Msgpack => to_msgpack(&record.body),
            };
            let outcome = host.filter(&tag, record.time_sec, record.time_nsec, &encoded);
            if let Some(raw) = outcome.raw() {
                let mut line_out = kept_line(options.format, raw);
                line_out.push(b'\n');
                if out.write_all(&line_out).is_err() {
                    break 'files;
                }
            }
            done_bytes += line.len() as u64 + 1;
            progress.update(done_bytes, host.stats().records_in);
        }
    }
    let _ = out.flush();
    progress.finish();
    Ok(host.stats())
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("replay: {e}");
            return ExitCode::from(2);
        }
    };
    match run(options) {
        Ok(stats) => {
            eprintln!("{}", summary(&stats));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("replay: {e}");
            ExitCode::from(1)
        }
    }
}
