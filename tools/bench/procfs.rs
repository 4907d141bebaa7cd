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

/// Resident stack of the threads of `pid` that are waiting in a system call, in kB per
/// thread, read after the idle window: what an idle user's thread keeps. Each thread's stack
/// pointer comes from /proc/PID/task/TID/syscall, the mapping holding it from
/// /proc/PID/maps, and which of its pages are resident from /proc/PID/pagemap (the
/// "present" bit, readable by the process's own user). `None` without those rights.
pub fn stack_kb_per_thread(pid: u32) -> Option<f64> {
    let maps = fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
    let ranges: Vec<(u64, u64)> = maps
        .lines()
        .filter_map(|line| {
            let (start, end) = line.split_whitespace().next()?.split_once('-')?;
            Some((
                u64::from_str_radix(start, 16).ok()?,
                u64::from_str_radix(end, 16).ok()?,
            ))
        })
        .collect();
    let mut file = fs::File::open(format!("/proc/{pid}/pagemap")).ok()?;
    let (mut pages, mut threads) = (0u64, 0u64);
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let Ok(task) = task else { continue };
        let Ok(syscall) = fs::read_to_string(task.path().join("syscall")) else {
            continue;
        };
        // "NR arg1 … arg6 SP PC" while blocked in a system call; "running" otherwise.
        let fields: Vec<&str> = syscall.split_whitespace().collect();
        let Some(sp) = fields
            .len()
            .checked_sub(2)
            .and_then(|i| fields.get(i))
            .and_then(|sp| u64::from_str_radix(sp.trim_start_matches("0x"), 16).ok())
        else {
            continue;
        };
        let Some(&(start, end)) = ranges.iter().find(|(a, b)| (*a..*b).contains(&sp)) else {
            continue;
        };
        pages += resident_pages(&mut file, start, end)?;
        threads += 1;
    }
    (threads > 0).then(|| (pages * 4) as f64 / threads as f64)
}

/// How many 4 kB pages of `start..end` are resident, from an open /proc/PID/pagemap.
fn resident_pages(pagemap: &mut fs::File, start: u64, end: u64) -> Option<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let count = usize::try_from((end - start) / 4096).ok()?;
    let mut entries = vec![0u8; count * 8];
    pagemap.seek(SeekFrom::Start(start / 4096 * 8)).ok()?;
    pagemap.read_exact(&mut entries).ok()?;
    Some(entries.chunks_exact(8).filter(|e| e[7] & 0x80 != 0).count() as u64)
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
    fn reads_the_stacks_of_waiting_threads() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let waiter = std::thread::spawn(move || rx.recv());
        let mut kb = None;
        // The thread is in its futex wait soon after it starts; until then, try again.
        for _ in 0..1000 {
            kb = stack_kb_per_thread(std::process::id());
            if kb.is_some() {
                break;
            }
            std::thread::yield_now();
        }
        drop(tx);
        let _ = waiter.join();
        let kb = kb.expect("a waiting thread's stack");
        assert!(kb >= 4.0, "at least the page it waits in: {kb}");
    }

    #[test]
    fn reads_itself() {
        let me = sample(std::process::id()).expect("own /proc entry");
        assert!(me.rss_kb > 0 && me.hwm_kb >= me.rss_kb);
    }
}
