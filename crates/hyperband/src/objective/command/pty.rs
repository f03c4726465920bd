//! A pseudo-terminal for a followed program's stdout (`line_buffered`), so that a program
//! that never flushes still writes each line as it prints it.
//!
//! C stdio, Python and most runtimes buffer stdout in blocks of 4 to 8 KiB when it is a
//! file or a pipe and by line when it is a terminal; stop mode needs each value when it is
//! printed, not when the program exits (measured in docs/benchmarks.md, "Programs that do
//! not flush"). The program's stdout is the terminal's slave end; a thread copies what
//! arrives on the master end into the job's stdout file, which the follower reads as it
//! reads any other. `stdbuf -oL` does the same only for dynamically linked C programs.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::thread::JoinHandle;

/// Columns the program sees: wide, so that progress bars that fit themselves to the
/// terminal do not cut off the metrics at the end of their line.
const COLUMNS: u16 = 250;

/// A terminal pair: the master end (ours) and the slave end (the program's stdout). Both
/// are close-on-exec from the start: a program another worker starts meanwhile must not
/// inherit them, or the master would never see the end of the output.
pub(super) fn open() -> io::Result<(OwnedFd, OwnedFd)> {
    // SAFETY: plain system calls on descriptors this function owns; the name buffer is
    // large enough for any /dev/pts path and ptsname_r NUL-terminates it.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        if master < 0 {
            return Err(io::Error::last_os_error());
        }
        let master = OwnedFd::from_raw_fd(master);
        let m = std::os::fd::AsRawFd::as_raw_fd(&master);
        if libc::grantpt(m) != 0 || libc::unlockpt(m) != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut name = [0 as libc::c_char; 128];
        let e = libc::ptsname_r(m, name.as_mut_ptr(), name.len());
        if e != 0 {
            return Err(io::Error::from_raw_os_error(e));
        }
        let slave = libc::open(
            name.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        );
        if slave < 0 {
            return Err(io::Error::last_os_error());
        }
        let slave = OwnedFd::from_raw_fd(slave);
        let s = std::os::fd::AsRawFd::as_raw_fd(&slave);
        // Output as written: no `\n` -> `\r\n` translation.
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(s, &mut t) == 0 {
            t.c_oflag &= !libc::OPOST;
            libc::tcsetattr(s, libc::TCSANOW, &t);
        }
        let size = libc::winsize {
            ws_row: 50,
            ws_col: COLUMNS,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        libc::ioctl(s, libc::TIOCSWINSZ, &size);
        Ok((master, slave))
    }
}

/// Copies the master end into `out` until every holder of the slave end has closed it
/// (the read then fails with EIO): the thread ends once the program and whatever it
/// started are gone.
pub(super) fn copy(master: OwnedFd, mut out: File) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut master = File::from(master);
        let mut buf = [0u8; 8192];
        loop {
            match master.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    })
}
