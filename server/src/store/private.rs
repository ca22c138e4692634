//! What the server creates for its data is private to the user it runs as:
//! folders 0700, database files 0600 (SQLite gives the `-wal` and `-shm`
//! files the database file's mode). Only what is created here gets these
//! modes; an existing folder or file keeps its own.

use std::fs::{DirBuilder, OpenOptions};
use std::io::ErrorKind;
use std::path::Path;

use super::StoreError;

/// Mode of every folder the server creates.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every database file the server creates.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` and any missing parent, each new one 0700.
pub fn create_dir_all(dir: &Path) -> Result<(), StoreError> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(dir).map_err(|source| StoreError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })
}

/// Creates `path` empty with mode 0600 unless it exists (an empty file is
/// an empty SQLite database, which SQLite then fills).
pub fn create_file(path: &Path) -> Result<(), StoreError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(StoreError::CreateFile {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Creates (or truncates) a small file of the server's own beside the
/// database, mode 0600 when new, for writing.
pub fn create_own_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    options.open(path)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_folders_and_files_are_private_and_existing_ones_keep_their_mode() {
        let root = tempfile::tempdir().unwrap();
        let deep = root.path().join("a").join("b");
        create_dir_all(&deep).unwrap();
        assert_eq!(mode(&root.path().join("a")), DIR_MODE);
        assert_eq!(mode(&deep), DIR_MODE);
        let file = deep.join("pmm.db");
        create_file(&file).unwrap();
        assert_eq!(mode(&file), FILE_MODE);

        let open = root.path().join("open.db");
        std::fs::write(&open, b"").unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
        create_file(&open).unwrap();
        assert_eq!(mode(&open), 0o644, "an existing file keeps its mode");
    }
}
