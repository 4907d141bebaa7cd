//! How many connections this machine lets the server hold, so that it turns the next one
//! away instead of running out of something and crashing.
//!
//! Each connection costs one file descriptor and one thread, and each thread four memory
//! maps (its stack, the stack's guard page, and the signal stack Rust gives every thread,
//! with its guard). The kernel caps maps per process (`vm.max_map_count`, 65530 by default:
//! about 16,000 connections) and threads system-wide (`kernel.pid_max`, `threads-max`).

use std::sync::OnceLock;

/// The most connections the limits allow, and the limit that binds first.
#[derive(Debug, Clone)]
pub struct Capacity {
    pub most: usize,
    pub bound_by: String,
}

const MAPS_PER_CONNECTION: u64 = 4;
const THREADS_PER_CONNECTION: u64 = 1;

/// Reads the limits once (raising the open-file limit on the way).
pub fn connections() -> Capacity {
    static CAPACITY: OnceLock<Capacity> = OnceLock::new();
    CAPACITY.get_or_init(measure).clone()
}

fn measure() -> Capacity {
    let files = tlschat::limits::raise_open_file_limit();
    let read =
        |path: &str| -> Option<u64> { std::fs::read_to_string(path).ok()?.trim().parse().ok() };
    let mut limits = vec![(
        files.saturating_sub(64),
        format!("open-file limit {files}; raise it with `ulimit -Hn`"),
    )];
    if let Some(maps) = read("/proc/sys/vm/max_map_count") {
        limits.push((
            maps.saturating_sub(2048) / MAPS_PER_CONNECTION,
            format!("vm.max_map_count={maps}; raise it with `sysctl -w vm.max_map_count=262144`"),
        ));
    }
    for name in ["pid_max", "threads-max"] {
        if let Some(threads) = read(&format!("/proc/sys/kernel/{name}")) {
            limits.push((
                threads.saturating_sub(512) / THREADS_PER_CONNECTION,
                format!("kernel.{name}={threads}"),
            ));
        }
    }
    let (most, bound_by) = limits
        .into_iter()
        .min_by_key(|(most, _)| *most)
        .unwrap_or((1024, "unknown limits".into()));
    Capacity {
        most: usize::try_from(most).unwrap_or(usize::MAX),
        bound_by,
    }
}
