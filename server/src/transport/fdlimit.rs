//! The process's open-file limit (RLIMIT_NOFILE): every connection holds a
//! descriptor, and the usual soft limit (1024) would cap the server near
//! a thousand clients while the hard limit allows far more.

use std::io;

/// The open-file limit before and after [`raise`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoFile {
    /// The soft limit as found at start.
    pub was: u64,
    /// The soft limit now.
    pub soft: u64,
    /// The hard limit (the most the soft limit may be raised to).
    pub hard: u64,
}

/// Descriptors kept for everything but connections (SQLite files, the
/// runtime, logs, the listener).
pub const RESERVED: u64 = 64;

/// Raises the soft limit to the hard limit.
#[cfg(unix)]
pub fn raise() -> io::Result<NoFile> {
    let (was, hard) = get()?;
    let mut soft = was;
    if hard > was {
        // Some kernels refuse RLIM_INFINITY (above fs.nr_open): fall back to
        // a large finite value.
        for want in [hard, 1 << 20, 1 << 16] {
            if want <= was || want > hard {
                continue;
            }
            if set(want, hard).is_ok() {
                soft = want;
                break;
            }
        }
    }
    Ok(NoFile { was, soft, hard })
}

#[cfg(not(unix))]
pub fn raise() -> io::Result<NoFile> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no RLIMIT_NOFILE here",
    ))
}

/// The soft limit in force (`None` where unknown).
pub fn current() -> Option<u64> {
    #[cfg(unix)]
    {
        get().ok().map(|(soft, _)| soft)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

// rlim_t is u64 on Linux, not everywhere.
#[allow(clippy::unnecessary_cast)]
#[cfg(unix)]
fn get() -> io::Result<(u64, u64)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass, nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((limit.rlim_cur as u64, limit.rlim_max as u64))
}

#[cfg(unix)]
fn set(soft: u64, hard: u64) -> io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: setrlimit reads the struct we pass, nothing else.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Raises the limit and logs it, warning when `max_connections` cannot all
/// be open at once within it besides `other_files` (the open minds' files;
/// beyond that, accept fails with EMFILE and the accept loop backs off).
pub fn raise_and_log(max_connections: usize, other_files: u64) {
    match raise() {
        Ok(limit) => {
            tracing::info!(
                soft = limit.soft,
                hard = limit.hard,
                was = limit.was,
                "open-file limit"
            );
            let room = limit.soft.saturating_sub(RESERVED + other_files);
            if (max_connections as u64) > room {
                tracing::warn!(
                    max_connections,
                    open_file_limit = limit.soft,
                    other_files,
                    "the open-file limit allows about {room} connections besides the open minds' files, fewer than max_connections"
                );
            }
        }
        Err(error) => tracing::warn!(%error, "cannot read or raise the open-file limit"),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn raising_leaves_the_soft_limit_at_most_the_hard_one() {
        let limit = raise().expect("rlimit");
        assert!(limit.soft >= limit.was && limit.soft <= limit.hard);
        assert_eq!(current(), Some(limit.soft));
    }
}
