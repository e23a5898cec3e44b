//! The machine, the `tumbuh` binary, child processes (wall time and peak
//! memory) and small statistics helpers.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// What the figures were measured on.
#[derive(Debug, Clone)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub kernel: String,
    pub memory: String,
}

impl Machine {
    pub fn detect() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |text: &str, key: &str| {
            text.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        };
        let memory = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| field(&m, "MemTotal"))
            .and_then(|v| v.trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or_else(
                || "?".to_string(),
                |kb| format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0),
            );
        Machine {
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model: field(&cpuinfo, "model name").unwrap_or_else(|| "?".to_string()),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or_else(|_| "?".to_string(), |s| s.trim().to_string()),
            memory,
        }
    }

    pub fn print(&self) {
        println!(
            "machine: nproc {}, CPU {}, RAM {}, Linux {}",
            self.cpus, self.cpu_model, self.memory, self.kernel
        );
        if cfg!(debug_assertions) {
            println!("WARNING: this is a debug build; figures are meaningless. Use --release.");
        }
    }
}

/// A temporary folder named `prefix…` in `dir` (default: the system's),
/// removed when dropped. The disk matters: fsync speed differs per device.
pub fn scratch_dir(dir: Option<&Path>, prefix: &str) -> anyhow::Result<tempfile::TempDir> {
    let base = dir.map_or_else(std::env::temp_dir, Path::to_path_buf);
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(&base)
        .with_context(|| format!("cannot create a temporary folder in {}", base.display()))
}

/// The file system type (from /proc/mounts) of the mount holding `path`.
pub fn fs_type(path: &Path) -> String {
    let Ok(mounts) = std::fs::read_to_string("/proc/mounts") else {
        return "?".to_string();
    };
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let _dev = f.next()?;
            let mount = f.next()?;
            let fs = f.next()?;
            path.starts_with(mount)
                .then(|| (mount.len(), fs.to_string()))
        })
        .max_by_key(|(len, _)| *len)
        .map_or_else(|| "?".to_string(), |(_, fs)| fs)
}

/// A binary of this workspace built next to this one (same target dir and
/// profile); `package` is what to build it with if it is missing.
fn sibling_binary(name: &str, package: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the path of this benchmark binary")?;
    let bin = exe.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !bin.is_file() {
        bail!(
            "the `{name}` binary is missing at {}: build it in the same target dir and profile first, \
             e.g. `cargo build --release -p {package} -p tumbuh-bench` (with the same CARGO_TARGET_DIR)",
            bin.display()
        );
    }
    Ok(bin)
}

/// The `tumbuh` binary built next to this one (same target dir and profile).
pub fn tumbuh_binary() -> anyhow::Result<PathBuf> {
    sibling_binary("tumbuh", "field-client")
}

/// The `tumbuh-server` binary built next to this one.
pub fn server_binary() -> anyhow::Result<PathBuf> {
    sibling_binary("tumbuh-server", "tumbuh-server")
}

/// The repository root (this crate's parent folder).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The PIN of the benchmark's stores.
pub const PIN: &str = "246810";

/// [`PIN`] as the field client's type.
pub fn pin() -> field_client::pin::Pin {
    field_client::pin::Pin::new(PIN)
}

/// A `tumbuh` command with a clean environment for benchmarking (no debug
/// logs, no failpoint, no store from the environment), unlocking with
/// [`PIN`] at the real Argon2id cost: what a kader waits for.
pub fn tumbuh_command(tumbuh: &Path) -> Command {
    let mut cmd = Command::new(tumbuh);
    cmd.env_remove("TUMBUH_LOG")
        .env_remove("TUMBUH_FAILPOINT")
        .env_remove("TUMBUH_DB")
        .env_remove("TUMBUH_INSECURE_TEST_KDF")
        .env("TUMBUH_PIN", PIN);
    cmd
}

/// Runs `cmd` to completion, failing with its stderr if it fails.
pub fn run_ok(cmd: &mut Command, what: &str) -> anyhow::Result<Output> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot start {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out)
}

/// How peak memory of a child process is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RssMethod {
    /// GNU `/usr/bin/time -f %M` (the kernel's maxrss at exit: exact).
    GnuTime,
    /// `VmHWM` read from `/proc/<pid>/status` every 2 ms (a lower bound).
    PollProc,
}

impl RssMethod {
    pub fn detect() -> RssMethod {
        let ok = Command::new("/usr/bin/time")
            .args(["-f", "%M", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .is_ok_and(|o| {
                o.status.success()
                    && String::from_utf8_lossy(&o.stderr)
                        .trim()
                        .parse::<u64>()
                        .is_ok()
            });
        if ok {
            RssMethod::GnuTime
        } else {
            RssMethod::PollProc
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            RssMethod::GnuTime => "/usr/bin/time -f %M (maxrss at exit)",
            RssMethod::PollProc => "VmHWM from /proc/<pid>/status polled every 2 ms (lower bound)",
        }
    }
}

/// One finished child process.
#[derive(Debug)]
pub struct Measured {
    pub wall: Duration,
    pub peak_rss_kib: u64,
    pub stdout: Vec<u8>,
}

/// Runs `program args…` and measures its wall time (spawn to exit) and peak
/// resident memory. Fails if it exits unsuccessfully.
pub fn run_measured(
    method: RssMethod,
    program: &Path,
    args: &[&std::ffi::OsStr],
    scratch: &Path,
) -> anyhow::Result<Measured> {
    let what = program.display().to_string();
    match method {
        RssMethod::GnuTime => {
            let report = scratch.join("time-report.txt");
            let mut cmd = Command::new("/usr/bin/time");
            cmd.arg("-f")
                .arg("%M")
                .arg("-o")
                .arg(&report)
                .arg(program)
                .args(args);
            cmd.env_remove("TUMBUH_LOG")
                .env_remove("TUMBUH_FAILPOINT")
                .env_remove("TUMBUH_DB")
                .env_remove("TUMBUH_INSECURE_TEST_KDF")
                .env("TUMBUH_PIN", PIN);
            let start = Instant::now();
            let out = run_ok(&mut cmd, &what)?;
            let wall = start.elapsed();
            let text = std::fs::read_to_string(&report)
                .with_context(|| format!("cannot read {}", report.display()))?;
            let peak_rss_kib = text
                .lines()
                .rev()
                .find_map(|l| l.trim().parse::<u64>().ok())
                .with_context(|| format!("unexpected /usr/bin/time output: {text:?}"))?;
            Ok(Measured {
                wall,
                peak_rss_kib,
                stdout: out.stdout,
            })
        }
        RssMethod::PollProc => {
            let mut cmd = tumbuh_command(program);
            cmd.args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let start = Instant::now();
            let mut child = cmd
                .spawn()
                .with_context(|| format!("cannot start {what}"))?;
            let status_path = format!("/proc/{}/status", child.id());
            let mut peak = 0;
            // Drain the pipes on threads so the child never blocks on a full pipe.
            let mut so = child.stdout.take().context("no stdout pipe")?;
            let mut se = child.stderr.take().context("no stderr pipe")?;
            let out_thread = std::thread::spawn(move || {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut so, &mut buf).map(|_| buf)
            });
            let err_thread = std::thread::spawn(move || {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut se, &mut buf).map(|_| buf)
            });
            let status = loop {
                if let Ok(s) = std::fs::read_to_string(&status_path)
                    && let Some(kib) = s
                        .lines()
                        .find(|l| l.starts_with("VmHWM:"))
                        .and_then(|l| l.split_whitespace().nth(1))
                        .and_then(|v| v.parse::<u64>().ok())
                {
                    peak = peak.max(kib);
                }
                if let Some(status) = child
                    .try_wait()
                    .with_context(|| format!("waiting for {what}"))?
                {
                    break status;
                }
                std::thread::sleep(Duration::from_millis(2));
            };
            let wall = start.elapsed();
            let stdout = out_thread
                .join()
                .map_err(|_| anyhow::anyhow!("stdout reader panicked"))??;
            let stderr = err_thread
                .join()
                .map_err(|_| anyhow::anyhow!("stderr reader panicked"))??;
            if !status.success() {
                bail!(
                    "{what} failed ({status}): {}",
                    String::from_utf8_lossy(&stderr).trim()
                );
            }
            Ok(Measured {
                wall,
                peak_rss_kib: peak,
                stdout,
            })
        }
    }
}

/// Sorted copy of durations in milliseconds.
pub fn sorted_ms(samples: &[Duration]) -> Vec<f64> {
    let mut v: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Nearest-rank percentile (`p` in 0–100) of sorted values; NaN if empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Median of sorted values (mean of the middle two for an even count).
pub fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// 12345678.9 → "12,345,679".
pub fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert!((median(&v) - 5.5).abs() < 1e-12);
        assert!((percentile(&v, 95.0) - 10.0).abs() < 1e-12);
        assert!((percentile(&v, 50.0) - 5.0).abs() < 1e-12);
        assert_eq!(thousands(1_234_567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
    }
}
