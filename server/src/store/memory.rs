//! The memory each SQLite connection may hold. A server keeps three
//! connections per open mind (writer, reader, checkpointer) and up to a
//! thousand minds open, so SQLite's per-connection defaults (a page cache
//! growing to 2 MB, 48 KB of lookaside slots) would make SQLite the
//! largest part of an open mind's memory. The file's pages stay in the
//! operating system's cache either way: a smaller SQLite cache costs a
//! copy from it, not a disk read.

use rusqlite::Connection;

/// Page cache of the writer: an append touches the right edge of the
/// `events` tree and one leaf of each index.
pub const WRITER_CACHE_KIB: i64 = 512;

/// Page cache of a read connection.
pub const READER_CACHE_KIB: i64 = 256;

/// Page cache of the checkpointer (a checkpoint copies frames through a
/// buffer of its own, not the page cache).
pub const CHECKPOINTER_CACHE_KIB: i64 = 64;

/// Bounds a connection's page cache to `cache_kib` KiB and turns its
/// lookaside slots off.
pub fn limit(conn: &Connection, cache_kib: i64) -> rusqlite::Result<()> {
    disable_lookaside(conn);
    conn.pragma_update(None, "cache_size", -cache_kib)
}

/// Lookaside is a per-connection pool of small allocations that SQLite
/// takes before asking malloc; the process allocator already serves small
/// allocations fast (appends at c=32, one mind or spread over 100: the
/// same rate with or without it). Turning it off right after open, before
/// any statement uses it, saves its 48 KB per connection.
fn disable_lookaside(conn: &Connection) {
    use rusqlite::ffi;
    use std::os::raw::{c_int, c_void};
    // SAFETY: the handle is the open connection's own; a null buffer with
    // zero slots is SQLite's documented way to turn lookaside off, and
    // SQLite refuses (SQLITE_BUSY) rather than misbehaves if slots are in
    // use.
    let rc = unsafe {
        ffi::sqlite3_db_config(
            conn.handle(),
            ffi::SQLITE_DBCONFIG_LOOKASIDE,
            std::ptr::null_mut::<c_void>(),
            0 as c_int,
            0 as c_int,
        )
    };
    if rc != ffi::SQLITE_OK {
        tracing::debug!(rc, "SQLite kept its lookaside slots");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limited_connection_keeps_a_small_page_cache() {
        let conn = Connection::open_in_memory().expect("open");
        limit(&conn, READER_CACHE_KIB).expect("limit");
        let kib: i64 = conn
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .expect("cache_size");
        assert_eq!(kib, -READER_CACHE_KIB);
        // Still a working connection.
        let one: i64 = conn
            .query_row("SELECT 1", [], |r| r.get(0))
            .expect("select");
        assert_eq!(one, 1);
    }
}
