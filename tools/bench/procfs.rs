//! What a process costs, read from /proc: CPU time and resident memory.

use std::fs;

/// One reading of a process's counters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// User plus system CPU time since the process started.
    pub cpu_secs: f64,
    /// Resident memory now (VmRSS), kB.
    pub rss_kb: u64,
    /// Peak resident memory (VmHWM), kB.
    pub hwm_kb: u64,
}

/// Reads the counters of process `pid`.
pub fn sample(pid: u32) -> Result<Usage, String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("cannot read /proc/{pid}/stat: {e}"))?;
    let status = fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read /proc/{pid}/status: {e}"))?;
    let ticks = parse_cpu_ticks(&stat).ok_or_else(|| format!("unexpected /proc/{pid}/stat"))?;
    // SAFETY: sysconf only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    // The per-thread scheduler clocks count nanoseconds; /proc/PID/stat counts 10 ms ticks,
    // too coarse for a run of a tenth of a second. Threads that exited are only in the ticks.
    let cpu_secs = match task_cpu_ns(pid) {
        Some(ns) => ns as f64 / 1e9,
        None => ticks as f64 / hz,
    };
    Ok(Usage {
        cpu_secs,
        rss_kb: status_kb(&status, "VmRSS:").unwrap_or(0),
        hwm_kb: status_kb(&status, "VmHWM:").unwrap_or(0),
    })
}

/// On-CPU nanoseconds of every live thread of `pid`, from /proc/PID/task/*/schedstat.
fn task_cpu_ns(pid: u32) -> Option<u64> {
    let mut total = 0;
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = task.ok()?.path().join("schedstat");
        // A thread may exit between listing and reading: skip it.
        let Ok(text) = fs::read_to_string(path) else {
            continue;
        };
        total += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// Resets the peak-RSS counter (VmHWM) so that it covers only this run. Needs the right to
/// write /proc/PID/clear_refs (the same user, or root); returns whether it worked.
pub fn reset_peak(pid: u32) -> bool {
    fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// utime + stime in clock ticks. The command name in parentheses may contain spaces, so
/// fields are counted from the last `)`: state is field 3, utime 14, stime 15.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn status_kb(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// Threads of process `pid`, for the report.
pub fn threads(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("Threads:"))?;
    line["Threads:".len()..].trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_lines() {
        let stat = "1234 (my (odd) name) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0";
        assert_eq!(parse_cpu_ticks(stat), Some(300));
        let status = "Name:\tserver\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(status_kb(status, "VmHWM:"), Some(20480));
        assert_eq!(status_kb(status, "VmRSS:"), Some(10240));
        assert_eq!(status_kb(status, "VmSwap:"), None);
    }

    #[test]
    fn reads_itself() {
        let me = sample(std::process::id()).expect("own /proc entry");
        assert!(me.rss_kb > 0 && me.hwm_kb >= me.rss_kb);
    }
}
