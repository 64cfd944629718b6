//! SVG → PNG with resvg and the system's fonts (DejaVu on Debian), for plots and screenshots.

use std::path::Path;

pub fn svg_to_png_bytes(svg: &str) -> Result<Vec<u8>, String> {
    let mut opt = resvg::usvg::Options::default();
    opt.fontdb_mut().load_system_fonts();
    let tree = resvg::usvg::Tree::from_str(svg, &opt).map_err(|e| format!("invalid SVG: {e}"))?;
    let size = tree.size().to_int_size();
    let mut pixmap =
        resvg::tiny_skia::Pixmap::new(size.width(), size.height()).ok_or("empty image")?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| format!("PNG encoding: {e}"))
}

pub fn write_svg_and_png(svg: &str, stem: &Path) -> Result<(), String> {
    let svg_path = stem.with_extension("svg");
    std::fs::write(&svg_path, svg).map_err(|e| format!("{}: {e}", svg_path.display()))?;
    let png = svg_to_png_bytes(svg)?;
    let png_path = stem.with_extension("png");
    std::fs::write(&png_path, png).map_err(|e| format!("{}: {e}", png_path.display()))
}
