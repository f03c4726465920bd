//! A guard process per running program that kills the program's whole process group when
//! this process dies, however it dies.
//!
//! `PR_SET_PDEATHSIG` reaches only the program we started: a `kill -9` of the runner left
//! its children's children (data-loader workers, `torchrun` ranks, the `sleep` of a shell
//! script) running, adopted by init, training for nobody and writing into a checkpoint
//! folder that the trial's re-run then uses. The guard is a forked copy of this process
//! that only waits on a pipe whose write end this process holds (close-on-exec, so no
//! program inherits it): when this process exits, the kernel closes the write end, the
//! guard's read returns, and it kills the group. In the normal course the guard is killed
//! and reaped when the program has been waited for, before the group's id can be reused.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The guard of one process group; dropping it ends the guard without touching the group.
#[derive(Debug)]
pub(super) struct GroupGuard {
    pid: libc::pid_t,
    /// Held open for as long as the guard must keep watching.
    _write: OwnedFd,
}

impl GroupGuard {
    /// Starts the guard of process group `pgid`.
    pub(super) fn new(pgid: u32) -> io::Result<Self> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: fds is a valid array of two ints for pipe2 to fill.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just created and are owned here alone.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let read_fd = read.as_raw_fd();
        let target = -(pgid as libc::pid_t);
        // SAFETY: the child runs only async-signal-safe calls (close_range/close, sigaction
        // through signal, read, kill, _exit) and never returns into Rust code, as a fork of
        // a multi-threaded process must.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            unsafe { guard_main(read_fd, target) }
        }
        drop(read);
        Ok(Self { pid, _write: write })
    }
}

/// The guard's whole life: keep only the pipe's read end, ignore the signals a terminal or
/// a `kill` of the runner's group sends (the guard must outlive the runner to act), wait
/// for end of file, kill the group.
unsafe fn guard_main(read_fd: libc::c_int, target: libc::pid_t) -> ! {
    if read_fd > 0 {
        close_range(0, read_fd as libc::c_uint - 1);
    }
    close_range(read_fd as libc::c_uint + 1, libc::c_uint::MAX);
    for sig in [
        libc::SIGINT,
        libc::SIGTERM,
        libc::SIGHUP,
        libc::SIGQUIT,
        libc::SIGPIPE,
    ] {
        libc::signal(sig, libc::SIG_IGN);
    }
    let mut byte = 0u8;
    loop {
        let n = libc::read(read_fd, (&mut byte as *mut u8).cast(), 1);
        if n < 0 && *libc::__errno_location() == libc::EINTR {
            continue;
        }
        break;
    }
    libc::kill(target, libc::SIGKILL);
    libc::_exit(0)
}

/// Closes descriptors `first..=last`: one `close_range` call where the kernel has it (5.9),
/// else one `close` each up to a bound (descriptors of a runner stay far below it).
unsafe fn close_range(first: libc::c_uint, last: libc::c_uint) {
    if first > last {
        return;
    }
    if libc::syscall(libc::SYS_close_range, first, last, 0) == 0 {
        return;
    }
    for fd in first..=last.min(4095) {
        libc::close(fd as libc::c_int);
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        // SAFETY: `pid` is our own unreaped child, so the id cannot name another process.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            let mut status = 0;
            while libc::waitpid(self.pid, &mut status, 0) < 0
                && *libc::__errno_location() == libc::EINTR
            {}
        }
    }
}
