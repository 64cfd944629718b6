//! Reading runs back for people: rows for listings, exports, seed aggregation, sweep reports and
//! their plots. Plain Rust: no burn, no terminal.

mod cards;
mod export;
pub mod membership;
mod paired;
mod plot;
mod power;
mod render;
mod rows;
mod stats;
mod sweep;
pub mod tensorboard;

pub use cards::{CardRow, cards_markdown, ensemble_accuracy, worst_case};
pub use export::{export_csv, export_json};
pub use paired::{Paired, holm, holm_family, paired};
pub use plot::{Marker, Series, chart_svg, membership_chart, study_chart};
pub use power::{mde_in_se, nct_cdf, normal_cdf, power};
pub use render::{RenderError, svg_to_png_bytes, write_svg_and_png};
pub use rows::{
    RunRow, duration as duration_str, format_table, group_table, one_run_per_point, pct as pct_str,
    run_rows,
};
pub use stats::{MeanStd, mean_std};
pub use sweep::{
    BEGIN_MARKER, BlockSource, Comparison, END_MARKER, Family, PointStats, RunFacts, SeedValues,
    Stat, SweepReport, aggregate, auto_family, comparisons, comparisons_markdown, csv as sweep_csv,
    evaluate, load as load_facts, markdown as sweep_markdown, metric_label, read_block_source,
    render_blocks, runs_csv, verdict,
};
