//! The writer thread: finishes sending to peers whose socket was full.
//!
//! Broadcasting never waits for a socket. When one is full, the connection keeps the rest of
//! its ciphertext and asks to be [watched](Writer::watch); this one thread waits (`epoll`)
//! until such sockets are writable again and resumes their flush. Nothing polls on a timer,
//! so idle connections cost no CPU.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, Weak};

use crate::conn::Conn;

pub struct Writer {
    epoll: i32,
    watched: Mutex<HashMap<u64, Weak<Conn>>>,
}

impl Writer {
    pub fn new() -> io::Result<Writer> {
        // SAFETY: plain system call; the result is checked.
        let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if epoll < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Writer {
            epoll,
            watched: Mutex::new(HashMap::new()),
        })
    }

    fn watched(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Weak<Conn>>> {
        self.watched.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes the writer once `conn`'s socket can take more bytes.
    pub fn watch(&self, conn: &Arc<Conn>) {
        let known = self
            .watched()
            .insert(conn.id, Arc::downgrade(conn))
            .is_some();
        let mut event = libc::epoll_event {
            events: (libc::EPOLLOUT | libc::EPOLLONESHOT) as u32,
            u64: conn.id,
        };
        let fd = conn.fd();
        // SAFETY: `event` is a valid epoll_event and `fd` an open socket owned by `conn`.
        let mut result = unsafe {
            libc::epoll_ctl(
                self.epoll,
                if known {
                    libc::EPOLL_CTL_MOD
                } else {
                    libc::EPOLL_CTL_ADD
                },
                fd,
                &mut event,
            )
        };
        if result < 0 {
            // Added before and fired since (one-shot), or never added: try the other verb.
            let op = match io::Error::last_os_error().raw_os_error() {
                Some(libc::EEXIST) => libc::EPOLL_CTL_MOD,
                _ => libc::EPOLL_CTL_ADD,
            };
            // SAFETY: as above.
            result = unsafe { libc::epoll_ctl(self.epoll, op, fd, &mut event) };
        }
        if result < 0 {
            crate::log!(
                "cannot watch a full socket ({}); dropping that connection",
                io::Error::last_os_error()
            );
            conn.close(crate::conn::Closed::Lost, None);
            conn.flush();
        }
    }

    /// The connection is gone (its descriptor closes, which also removes it from epoll).
    pub fn forget(&self, id: u64) {
        self.watched().remove(&id);
    }

    /// Runs the writer thread forever.
    pub fn run(&self) {
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 64];
        loop {
            // SAFETY: `events` is a valid buffer of 64 epoll_event.
            let n = unsafe {
                libc::epoll_wait(self.epoll, events.as_mut_ptr(), events.len() as i32, -1)
            };
            if n < 0 {
                if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                crate::log!("writer thread: {}", io::Error::last_os_error());
                return;
            }
            for event in events.iter().take(n.unsigned_abs() as usize) {
                let id = event.u64;
                let conn = self.watched().get(&id).and_then(Weak::upgrade);
                if let Some(conn) = conn {
                    conn.writable();
                }
            }
        }
    }
}
