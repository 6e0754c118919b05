//! What the operating system allows this process, for the parts that size themselves by it.

/// The soft limit on open files (`Max open files` of `/proc/self/limits`); `None` where that
/// is not known (not Linux) or unlimited.
pub fn open_files() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    soft_open_files(&limits)
}

/// The soft `Max open files` of a `/proc/<pid>/limits` text.
fn soft_open_files(limits: &str) -> Option<usize> {
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_soft_limit_of_open_files() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max processes             127334               127334               processes \n\
                    Max open files            1024                 524288               files     \n";
        assert_eq!(soft_open_files(text), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(soft_open_files(unlimited), None);
        if cfg!(target_os = "linux") {
            assert!(open_files().is_some_and(|limit| limit > 0));
        }
    }
}
