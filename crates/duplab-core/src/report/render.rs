//! SVG → PNG with resvg and the system's fonts (DejaVu on Debian), for plots and screenshots.

use std::path::Path;

/// Why a plot could not be rendered or written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(pub String);

pub fn svg_to_png_bytes(svg: &str) -> Result<Vec<u8>, RenderError> {
    let mut opt = resvg::usvg::Options::default();
    opt.fontdb_mut().load_system_fonts();
    let tree = resvg::usvg::Tree::from_str(svg, &opt)
        .map_err(|e| RenderError(format!("invalid SVG: {e}")))?;
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| RenderError("empty image".into()))?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| RenderError(format!("PNG encoding: {e}")))
}

pub fn write_svg_and_png(svg: &str, stem: &Path) -> Result<(), RenderError> {
    let svg_path = stem.with_extension("svg");
    std::fs::write(&svg_path, svg)
        .map_err(|e| RenderError(format!("{}: {e}", svg_path.display())))?;
    let png = svg_to_png_bytes(svg)?;
    let png_path = stem.with_extension("png");
    std::fs::write(&png_path, png).map_err(|e| RenderError(format!("{}: {e}", png_path.display())))
}
