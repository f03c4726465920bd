//! Process control for a job's program: waiting with a timeout, telling how it ended,
//! and killing its process group. No knowledge of jobs or templates.

use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// The longest pause between two checks of a running program with a timeout.
const MAX_POLL: Duration = Duration::from_millis(50);

pub(super) fn describe_status(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    match status.signal() {
        Some(sig) => match signal_name(sig) {
            Some(name) => format!("killed by signal {sig} ({name})"),
            None => format!("killed by signal {sig}"),
        },
        None => format!("ended with {status}"),
    }
}

fn signal_name(sig: i32) -> Option<&'static str> {
    Some(match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        _ => return None,
    })
}

pub(super) enum Waited {
    Exited(ExitStatus),
    TimedOut,
    Error(String),
}

/// Waits for the program, killing its whole process group on timeout, and after a normal
/// exit too (stragglers it left behind). The group is killed while the leader is still an
/// unreaped zombie, so its id cannot have been reused by an unrelated group.
pub(super) fn wait(mut child: Child, timeout: Option<Duration>) -> Waited {
    let pid = child.id();
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut pause = Duration::from_millis(1);
    let timed_out = loop {
        match exited_unreaped(pid, deadline.is_some()) {
            Ok(true) => break false,
            Ok(false) => {}
            Err(e) => {
                kill_group(pid);
                let _ = child.wait();
                return Waited::Error(format!("could not wait for the program: {e}"));
            }
        }
        let Some(deadline) = deadline else {
            continue; // a blocking wait returned early (a signal): wait again
        };
        let now = Instant::now();
        if now >= deadline {
            break true;
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(MAX_POLL);
    };
    kill_group(pid);
    match child.wait() {
        Ok(_) if timed_out => Waited::TimedOut,
        Ok(status) => Waited::Exited(status),
        Err(e) => Waited::Error(format!("could not wait for the program: {e}")),
    }
}

/// Whether child `pid` has exited, leaving it unreaped; `poll` returns at once instead of
/// blocking until it exits.
pub(super) fn exited_unreaped(pid: u32, poll: bool) -> Result<bool, std::io::Error> {
    let mut flags = libc::WEXITED | libc::WNOWAIT;
    if poll {
        flags |= libc::WNOHANG;
    }
    // SAFETY: `info` is a plain C struct that waitid fills in; zeroed is a valid value, and
    // a zero si_pid after WNOHANG means "not yet".
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        if libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) != 0 {
            let e = std::io::Error::last_os_error();
            return match e.kind() {
                std::io::ErrorKind::Interrupted => Ok(false),
                _ => Err(e),
            };
        }
        Ok(info.si_pid() != 0)
    }
}

pub(super) fn kill_group(pgid: u32) {
    // SAFETY: kill has no memory effects; a group that is already gone gives ESRCH.
    unsafe {
        libc::kill(-(pgid as libc::pid_t), libc::SIGKILL);
    }
}
