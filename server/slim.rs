//! Giving memory back after a connection's expensive start.
//!
//! Thousands of connections sit idle most of the time, so what each keeps after its TLS
//! handshake and login decides how many fit in memory. The handshake runs deep (public-key
//! arithmetic) on the connection's own stack and makes OpenSSL keep per-thread state (random
//! generators, error queue) that the connection never needs again: both are handed back here.
//! And glibc gives every thread a cache of freed blocks (tcache) that only that thread can
//! reuse: with a thread per user, those caches add up to more than the connections
//! themselves, so the server turns them off ([`tune_malloc`]).

extern "C" {
    /// OpenSSL: frees the calling thread's OpenSSL state; it is made again if needed.
    fn OPENSSL_thread_stop();
}

/// Hands back this thread's OpenSSL state and the pages of its stack below the caller's:
/// for a connection thread about to wait for its peer.
pub fn going_idle() {
    // SAFETY: OPENSSL_thread_stop only frees state owned by the calling thread, and OpenSSL
    // makes it again on the next call that needs it.
    unsafe { OPENSSL_thread_stop() };
    release_unused_stack();
}

/// Tells the kernel it may drop the pages of this thread's stack below the current frame:
/// they hold nothing live, and are faulted in again (zeroed) if the thread ever goes as deep.
fn release_unused_stack() {
    let here = 0u8;
    let sp = std::ptr::addr_of!(here) as usize;
    // SAFETY: pthread_getattr_np fills `attr` for the calling thread, which is destroyed
    // after use; madvise only touches whole pages strictly below the current frame (minus a
    // margin for the frames this function and madvise itself use), inside this thread's own
    // stack mapping.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return;
        }
        let mut base: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let got = libc::pthread_attr_getstack(&attr, &mut base, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        if got != 0 {
            return;
        }
        const PAGE: usize = 4096;
        const MARGIN: usize = 1024;
        let low = (base as usize).div_ceil(PAGE) * PAGE;
        let high = (sp.saturating_sub(MARGIN)) / PAGE * PAGE;
        if high > low {
            libc::madvise(low as *mut libc::c_void, high - low, libc::MADV_DONTNEED);
        }
    }
}

/// Set by [`tune_malloc`] in the environment of the process it becomes.
const TUNED: &str = "TLSCHAT_MALLOC_TUNED";

/// Restarts this process (same pid, arguments and environment) with glibc's per-thread
/// malloc caches off, unless already done. glibc reads its tunables only at start, so this
/// must run first in `main`, before any thread exists. If the restart fails, the server just
/// runs with the caches on.
pub fn tune_malloc() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os(TUNED).is_some() {
        return;
    }
    let tunables = match std::env::var("GLIBC_TUNABLES") {
        Ok(set) if set.contains("tcache_count") => return,
        Ok(set) if !set.is_empty() => format!("{set}:glibc.malloc.tcache_count=0"),
        _ => "glibc.malloc.tcache_count=0".to_string(),
    };
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let error = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("GLIBC_TUNABLES", tunables)
        .env(TUNED, "1")
        .exec();
    eprintln!("server: running with malloc caches on ({error})");
}
