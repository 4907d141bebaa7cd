//! Tiny real runs of the load generator against the real server: 3 clients sending 5
//! messages each, where nothing may be lost, duplicated or reordered; and 6 idle clients
//! connecting at an offered rate.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A child process killed on drop, so a failing test leaves nothing running.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs bench with `args` against a server it spawns; returns its JSON report.
fn run_bench(args: &[&str]) -> serde_json::Value {
    // The bench finds the server binary beside itself: both live in the same target dir.
    let bench = env!("CARGO_BIN_EXE_bench");
    let server = std::path::Path::new(env!("CARGO_BIN_EXE_server"));
    assert_eq!(
        std::path::Path::new(bench).parent(),
        server.parent(),
        "bench and server binaries should share a directory"
    );
    let child = Command::new(bench)
        .arg("--spawn-server")
        .args(args)
        .args(["--timeout", "20"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bench");
    let mut guard = Guard(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = guard.0.try_wait().expect("wait for bench") {
            break status;
        }
        assert!(Instant::now() < deadline, "bench did not finish in time");
        thread::sleep(Duration::from_millis(20));
    };
    let (mut out, mut err) = (String::new(), String::new());
    if let Some(mut s) = guard.0.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = guard.0.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    assert!(status.success(), "bench failed: {out}\n{err}");
    serde_json::from_str(out.lines().next().unwrap_or("")).expect("a JSON report line")
}

#[test]
fn tiny_load_run_loses_nothing() {
    let report = run_bench(&["--clients", "3", "--messages", "5"]);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["protocol"], "tlschat", "{report}");
    assert_eq!(report["expected"], 45);
    assert_eq!(report["received"], 45);
    for field in [
        "lost",
        "duplicates",
        "reordered",
        "unexpected",
        "send_failures",
    ] {
        assert_eq!(report[field], 0, "{field} in {report}");
    }
    assert!(report["server"]["cpu_secs"].is_number(), "{report}");
}

#[test]
fn connections_at_an_offered_rate_all_log_in() {
    let report = run_bench(&["--connections", "6", "--connect-rate", "30"]);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["connected"], 6, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    assert_eq!(report["connect_rate"], 30.0, "{report}");
    // Six connections at 30/s: the last may not start before 5/30 s.
    assert!(
        report["ramp_secs"].as_f64().unwrap_or(0.0) >= 5.0 / 30.0,
        "{report}"
    );
    assert_eq!(report["handshake_ms"]["count"], 6, "{report}");
    // tlschat sends a message back to its sender: the probe reaches all six.
    assert_eq!(report["latency_ms"]["count"], 6, "{report}");
}
