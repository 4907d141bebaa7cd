//! One tiny real run of the load generator against the real server: 3 clients, 5 messages
//! each, nothing may be lost, duplicated or reordered.

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

#[test]
fn tiny_load_run_loses_nothing() {
    // The bench finds the server binary beside itself: both live in the same target dir.
    let bench = env!("CARGO_BIN_EXE_bench");
    let server = std::path::Path::new(env!("CARGO_BIN_EXE_server"));
    assert_eq!(
        std::path::Path::new(bench).parent(),
        server.parent(),
        "bench and server binaries should share a directory"
    );
    let child = Command::new(bench)
        .args([
            "--spawn-server",
            "--clients",
            "3",
            "--messages",
            "5",
            "--timeout",
            "20",
        ])
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
    let report: serde_json::Value =
        serde_json::from_str(out.lines().next().unwrap_or("")).expect("a JSON report line");
    assert_eq!(report["ok"], true, "{report}");
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
