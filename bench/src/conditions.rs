//! The conditions a run's figures were taken under: the machine, the toolchain and emulator,
//! and what else was competing for its cores.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::artifacts;

#[derive(Debug, Default, Serialize)]
pub struct Conditions {
    pub started_at: String,
    pub nproc: usize,
    pub cpu_model: String,
    pub mem_total: String,
    pub kernel: String,
    pub rustc: String,
    pub moto: String,
    pub loadavg_start: String,
    pub loadavg_end: String,
    /// Compilers, test runners and emulators of other sessions seen running (start, end).
    pub others_start: Vec<String>,
    pub others_end: Vec<String>,
    pub build_secs: Option<f64>,
    pub criterion_secs: Option<f64>,
    pub driver_secs: f64,
    pub zipper: String,
    pub sha_ni: bool,
    /// Whether this run's release build started from an empty target directory.
    pub cold_build: bool,
    pub load_before_build: String,
    pub others_before_build: String,
}

impl Conditions {
    /// Everything known when the driver starts; the script passes what it measured before
    /// (build times, load before the build) in `BENCH_*` variables.
    pub fn at_start(moto_pid: Option<u32>) -> Self {
        let cpuinfo = read_trimmed("/proc/cpuinfo");
        let mem_kib: f64 = read_trimmed("/proc/meminfo")
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN);
        let var = |name: &str| std::env::var(name).unwrap_or_default();
        let secs = |name: &str| std::env::var(name).ok().and_then(|s| s.parse().ok());
        Conditions {
            started_at: apviso_core::time_fmt::now(),
            nproc: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            cpu_model: cpuinfo
                .lines()
                .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned()))
                .unwrap_or_default(),
            mem_total: format!("{:.1} GiB", mem_kib / 1024.0 / 1024.0),
            sha_ni: cpuinfo.split_whitespace().any(|f| f == "sha_ni"),
            kernel: read_trimmed("/proc/sys/kernel/osrelease"),
            rustc: var("BENCH_RUSTC"),
            moto: var("BENCH_MOTO"),
            loadavg_start: loadavg(),
            others_start: other_work(moto_pid),
            build_secs: secs("BENCH_BUILD_SECS"),
            criterion_secs: secs("BENCH_CRITERION_SECS"),
            zipper: artifacts::zipper().to_owned(),
            cold_build: var("BENCH_COLD") == "1",
            load_before_build: var("BENCH_LOAD_BEFORE"),
            others_before_build: var("BENCH_OTHERS_BEFORE"),
            ..Conditions::default()
        }
    }
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path).map(|s| s.trim().to_owned()).unwrap_or_default()
}

/// The 1, 5 and 15 minute load averages.
pub fn loadavg() -> String {
    read_trimmed("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// Processes of other work on the machine that compete for the 2 cores.
pub fn other_work(moto_pid: Option<u32>) -> Vec<String> {
    let me = std::process::id();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let Ok(procs) = std::fs::read_dir("/proc") else { return Vec::new() };
    for p in procs.flatten() {
        let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        if pid == me || Some(pid) == moto_pid {
            continue;
        }
        let comm = read_trimmed(&format!("/proc/{pid}/comm"));
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let kind = if matches!(comm.as_str(), "rustc" | "cargo" | "clippy-driver" | "cc" | "ld" | "cc1") {
            comm.clone()
        } else if cmdline.contains("moto.server") || cmdline.contains("moto_server") {
            "moto (another)".to_owned()
        } else if cmdline.contains("/deps/") && !cmdline.contains("bench-release") {
            "test binary".to_owned()
        } else {
            continue;
        };
        *seen.entry(kind).or_default() += 1;
    }
    seen.into_iter().map(|(k, n)| format!("{n}× {k}")).collect()
}
