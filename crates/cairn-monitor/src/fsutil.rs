//! Durable files: atomic replace with fsync of the file and of its directory.

use std::io::Write;
use std::path::Path;

/// Fsyncs the directory holding `path`, so a created or renamed file survives power loss.
///
/// # Errors
/// The directory cannot be opened or synced.
pub(crate) fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)?.sync_all()
}

/// Replaces `path` with `data` atomically: write a temporary file beside it, fsync, rename,
/// fsync the directory. A crash leaves the old file or the new one, never a mix.
///
/// # Errors
/// Any I/O failure.
pub(crate) fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    sync_dir(path)
}
