//! CPU time and memory from /proc (Linux): the same figures `getrusage` and `ps` give, readable
//! for other processes (moto, function binaries) and per thread without unsafe code.

use std::{collections::BTreeMap, fs, time::Duration};

/// USER_HZ: /proc reports CPU time in these ticks; it is 100 on every Linux ABI.
const TICKS_PER_SECOND: f64 = 100.0;

/// user + system CPU time of a process (all its threads, dead ones included) or of one thread.
fn stat_cpu(path: &str) -> Option<Duration> {
    let text = fs::read_to_string(path).ok()?;
    // The command name is in parentheses and may hold spaces: fields start after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat(5) are utime and stime; `rest` starts at field 3.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_secs_f64((utime + stime) / TICKS_PER_SECOND))
}

pub fn process_cpu(pid: u32) -> Option<Duration> {
    stat_cpu(&format!("/proc/{pid}/stat"))
}

pub fn self_cpu() -> Option<Duration> {
    stat_cpu("/proc/self/stat")
}

/// CPU time of this process's live threads, summed by thread name (`comm`). Threads that
/// already exited are missing; the runtimes here keep theirs alive for the whole run.
pub fn thread_cpu_by_name() -> BTreeMap<String, Duration> {
    let mut by_name = BTreeMap::new();
    let Ok(tasks) = fs::read_dir("/proc/self/task") else { return by_name };
    for task in tasks.flatten() {
        let dir = task.path();
        let name = fs::read_to_string(dir.join("comm")).map(|s| s.trim().to_owned()).unwrap_or_default();
        if let Some(cpu) = stat_cpu(&dir.join("stat").to_string_lossy()) {
            *by_name.entry(name).or_insert(Duration::ZERO) += cpu;
        }
    }
    by_name
}

/// A `Vm*` line of /proc/<pid>/status, in KiB (`VmHWM` is the peak resident set size).
pub fn status_kib(pid: &str, field: &str) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?;
    line[field.len() + 1..].trim().trim_end_matches("kB").trim().parse().ok()
}

pub fn self_peak_rss_kib() -> Option<u64> {
    status_kib("self", "VmHWM")
}

/// A CPU-time snapshot of this process (by thread name) and of one other process.
#[derive(Clone, Debug)]
pub struct CpuSnapshot {
    pub threads: BTreeMap<String, Duration>,
    pub process: Duration,
    pub other: Option<Duration>,
    pub at: std::time::Instant,
}

impl CpuSnapshot {
    pub fn take(other_pid: Option<u32>) -> Self {
        Self {
            threads: thread_cpu_by_name(),
            process: self_cpu().unwrap_or_default(),
            other: other_pid.and_then(process_cpu),
            at: std::time::Instant::now(),
        }
    }

    /// CPU spent since `earlier` by threads whose name starts with `prefix`.
    pub fn threads_since(&self, earlier: &Self, prefix: &str) -> Duration {
        let sum =
            |s: &Self| -> Duration { s.threads.iter().filter(|(n, _)| n.starts_with(prefix)).map(|(_, d)| *d).sum() };
        sum(self).saturating_sub(sum(earlier))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        assert!(self_cpu().is_some());
        assert!(self_peak_rss_kib().is_some_and(|kib| kib > 0));
        assert!(!thread_cpu_by_name().is_empty());
    }
}
