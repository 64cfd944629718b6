//! Run ids: `<YYYYMMDD-HHMMSS>-<preset>-<6 hex>`. Ids given on the command line are checked so that
//! none can name a path outside the store.

use super::error::StoreError;
use std::time::{SystemTime, UNIX_EPOCH};

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm), to avoid a date crate.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + if m <= 2 { 1 } else { 0 }, m, d)
}

/// `YYYYMMDD-HHMMSS` in UTC for a Unix time.
pub fn timestamp(secs: u64) -> String {
    let (y, m, d) = civil((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// ISO-8601 UTC for a Unix time, for display and JSON.
pub fn iso_time(secs: u64) -> String {
    let (y, m, d) = civil((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A 64-bit finaliser (SplitMix64's): nearby inputs give unrelated outputs.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A fresh run id. The suffix mixes time, pid and a counter so concurrent trainers never collide.
pub fn new_run_id(preset: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mix = mix64(
        nanos
            ^ (std::process::id() as u64).rotate_left(40)
            ^ COUNTER
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15),
    );
    let safe: String = preset
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    format!("{}-{safe}-{:06x}", timestamp(now_secs()), mix & 0xff_ffff)
}

/// An id (or id prefix) from the user: letters, digits, `-`, `_`, `.`, not starting with `.`.
pub fn validate_run_id(id: &str) -> Result<(), StoreError> {
    if id.is_empty() || id.len() > 200 {
        return Err(StoreError::BadId("a run id is 1 to 200 characters".into()));
    }
    if id.starts_with('.')
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(StoreError::BadId(format!(
            "`{id}` is not a run id: ids use letters, digits, `-`, `_` and `.` only, and name a folder inside the run store"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_civil_utc() {
        assert_eq!(timestamp(0), "19700101-000000");
        assert_eq!(iso_time(1_795_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(timestamp(951_782_400), "20000229-000000");
    }

    #[test]
    fn ids_are_unique_and_valid() {
        let a = new_run_id("default/../x");
        let b = new_run_id("default/../x");
        assert_ne!(a, b);
        validate_run_id(&a).unwrap();
    }

    #[test]
    fn path_like_ids_are_rejected() {
        for bad in ["../x", "..", "a/b", "/etc", ".hidden", "a\\b", ""] {
            assert!(validate_run_id(bad).is_err(), "{bad}");
        }
    }
}
