//! Line charts as SVG, for reports, benchmarks and demos.

use anyhow::Context;
use plotters::prelude::*;
use std::path::Path;

/// One named line.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Draws `series` as step-free lines; `log_y` plots the y axis on a log scale (values
/// must then be positive; smaller ones are clamped to the smallest positive value).
pub fn lines(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    log_y: bool,
) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let all = || series.iter().flat_map(|s| s.points.iter());
    let x_max = all().map(|p| p.0).fold(0.0f64, f64::max).max(1e-9);
    let x_min = all().map(|p| p.0).fold(f64::INFINITY, f64::min).min(x_max);
    let positive_min = all()
        .map(|p| p.1)
        .filter(|y| *y > 0.0)
        .fold(f64::INFINITY, f64::min);
    let y_max = all().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let y_min = all().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let builder = || {
        let mut b = ChartBuilder::on(&root);
        b.caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70);
        b
    };
    // The linear and log charts have different coordinate types, so the drawing that
    // follows is spelled once here and expanded for each.
    macro_rules! draw {
        ($chart:expr, $clamp:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(x_label)
                .y_desc(y_label)
                .draw()?;
            for (i, s) in series.iter().enumerate() {
                let color = COLORS[i % COLORS.len()];
                chart
                    .draw_series(LineSeries::new(
                        s.points.iter().map(|&(x, y)| (x, $clamp(y))),
                        color.stroke_width(2),
                    ))?
                    .label(s.name.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()?;
        }};
    }
    if log_y {
        let floor = if positive_min.is_finite() {
            positive_min
        } else {
            1e-9
        };
        let top = if y_max > floor { y_max } else { floor * 10.0 };
        draw!(
            builder().build_cartesian_2d(x_min..x_max, (floor * 0.8..top * 1.25).log_scale())?,
            |y: f64| y.max(floor)
        );
    } else {
        let pad = ((y_max - y_min) * 0.05).max(1e-9);
        draw!(
            builder().build_cartesian_2d(x_min..x_max, (y_min - pad)..(y_max + pad))?,
            |y: f64| y
        );
    }
    root.present()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
