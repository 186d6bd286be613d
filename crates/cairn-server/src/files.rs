//! Small durable-file helpers: atomic replace and directory fsync.

use std::io::Write;
use std::path::Path;

/// Fsyncs the directory holding `path`, so a created or renamed file survives power loss.
///
/// # Errors
/// The directory cannot be opened or synced.
pub(crate) fn sync_dir(path: &Path) -> Result<(), String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| format!("syncing {}: {e}", dir.display()))
}

/// Replaces `path` with `data` atomically: write a temporary file, fsync, rename, fsync the
/// directory. A crash leaves the old file or the new one, never a mix.
///
/// # Errors
/// Any I/O failure, with the path.
pub(crate) fn write_atomic(path: &Path, data: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    let mut f =
        std::fs::File::create(&tmp).map_err(|e| format!("creating {}: {e}", tmp.display()))?;
    f.write_all(data)
        .and_then(|_| f.sync_all())
        .map_err(|e| format!("writing {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("renaming to {}: {e}", path.display()))?;
    sync_dir(path)
}
