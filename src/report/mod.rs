//! Reading runs back for people: rows for listings, exports, seed aggregation. Plain Rust.

mod export;
mod rows;
mod stats;

pub use export::{export_csv, export_json};
pub use rows::{RunRow, duration as duration_str, format_table, pct as pct_str, run_rows};
pub use stats::{MeanStd, mean_std};
