//! Reading runs back for people: rows for listings, exports, seed aggregation, sweep reports and
//! their plots. Plain Rust: no burn, no terminal.

mod export;
mod plot;
mod render;
mod rows;
mod stats;
mod sweep;

pub use export::{export_csv, export_json};
pub use plot::{Marker, Series, chart_svg, study_chart};
pub use render::{svg_to_png_bytes, write_svg_and_png};
pub use rows::{RunRow, duration as duration_str, format_table, pct as pct_str, run_rows};
pub use stats::{MeanStd, mean_std};
pub use sweep::{PointStats, Stat, aggregate, csv as sweep_csv, markdown as sweep_markdown};
