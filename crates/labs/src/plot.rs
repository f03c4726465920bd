//! SVG figures: a line/dot chart with an optional shaded background (a function's landscape).
//!
//! Log axes are drawn by plotting `log10` of the data and saying so in the axis label; that
//! keeps one chart type for every figure instead of plotters' distinct log-coordinate types.

use crate::LabError;
use plotters::prelude::*;
use std::path::Path;

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Line,
    Dots,
}

/// One named series. An empty label keeps it out of the legend (e.g. many trajectories).
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub kind: Kind,
    /// Index into the palette, so related series can share a color.
    pub color: usize,
}

impl Series {
    pub fn line(label: impl Into<String>, color: usize, points: Vec<(f64, f64)>) -> Self {
        Series {
            label: label.into(),
            points,
            kind: Kind::Line,
            color,
        }
    }

    pub fn dots(label: impl Into<String>, color: usize, points: Vec<(f64, f64)>) -> Self {
        Series {
            label: label.into(),
            points,
            kind: Kind::Dots,
            color,
        }
    }
}

/// A function sampled on a grid, drawn as grey shading under the series (darker = lower).
#[derive(Debug, Clone)]
pub struct Shade {
    pub x: (f64, f64),
    pub y: (f64, f64),
    /// `values[i][j]` is the value on cell `(i, j)`, `i` along x.
    pub values: Vec<Vec<f64>>,
}

impl Shade {
    pub fn sample(x: (f64, f64), y: (f64, f64), cells: usize, f: impl Fn(f64, f64) -> f64) -> Self {
        let values = (0..cells)
            .map(|i| {
                let px = x.0 + (i as f64 + 0.5) * (x.1 - x.0) / cells as f64;
                (0..cells)
                    .map(|j| f(px, y.0 + (j as f64 + 0.5) * (y.1 - y.0) / cells as f64))
                    .collect()
            })
            .collect();
        Shade { x, y, values }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    pub series: Vec<Series>,
    pub shade: Option<Shade>,
}

impl Chart {
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        Chart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            ..Chart::default()
        }
    }

    fn transform(&self, (x, y): (f64, f64)) -> Option<(f64, f64)> {
        let x = if self.log_x { x.log10() } else { x };
        let y = if self.log_y { y.log10() } else { y };
        (x.is_finite() && y.is_finite()).then_some((x, y))
    }

    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let mut xs = (f64::INFINITY, f64::NEG_INFINITY);
        let mut ys = xs;
        let mut widen = |(x, y): (f64, f64)| {
            xs = (xs.0.min(x), xs.1.max(x));
            ys = (ys.0.min(y), ys.1.max(y));
        };
        for s in &self.series {
            s.points
                .iter()
                .filter_map(|&p| self.transform(p))
                .for_each(&mut widen);
        }
        let pad = |(lo, hi): (f64, f64)| {
            if !lo.is_finite() {
                return (0.0, 1.0);
            }
            let d = if hi > lo { 0.04 * (hi - lo) } else { 0.5 };
            (lo - d, hi + d)
        };
        if let Some(sh) = &self.shade {
            // A landscape figure is framed by its landscape.
            return (sh.x, sh.y);
        }
        (pad(xs), pad(ys))
    }

    /// Writes the chart as an SVG file, creating the parent directory.
    pub fn write_svg(&self, path: &Path) -> Result<(), LabError> {
        let fail = |message: String| LabError::Figure {
            path: path.to_path_buf(),
            message,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        }
        self.draw(path).map_err(fail)
    }

    fn draw(&self, path: &Path) -> Result<(), String> {
        let err = |e: &dyn std::fmt::Display| e.to_string();
        let ((x0, x1), (y0, y1)) = self.ranges();
        let root = SVGBackend::new(path, (820, 600)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| err(&e))?;
        let axis = |label: &str, log: bool| {
            if log {
                format!("log10 {label}")
            } else {
                label.to_string()
            }
        };
        chart
            .configure_mesh()
            .x_desc(axis(&self.x_label, self.log_x))
            .y_desc(axis(&self.y_label, self.log_y))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(|e| err(&e))?;
        if let Some(sh) = &self.shade {
            let lo = sh
                .values
                .iter()
                .flatten()
                .cloned()
                .fold(f64::INFINITY, f64::min);
            let hi = sh
                .values
                .iter()
                .flatten()
                .cloned()
                .fold(f64::NEG_INFINITY, f64::max);
            let nx = sh.values.len();
            let cells = sh.values.iter().enumerate().flat_map(|(i, col)| {
                let ny = col.len();
                col.iter().enumerate().map(move |(j, &v)| {
                    // Square-root scaling keeps detail near the minima visible.
                    let t = if hi > lo {
                        ((v - lo) / (hi - lo)).sqrt()
                    } else {
                        0.5
                    };
                    let g = (150.0 + 100.0 * t) as u8;
                    let cx = |k: usize| sh.x.0 + k as f64 * (sh.x.1 - sh.x.0) / nx as f64;
                    let cy = |k: usize| sh.y.0 + k as f64 * (sh.y.1 - sh.y.0) / ny as f64;
                    Rectangle::new(
                        [(cx(i), cy(j)), (cx(i + 1), cy(j + 1))],
                        RGBColor(g, g, g).filled(),
                    )
                })
            });
            chart.draw_series(cells).map_err(|e| err(&e))?;
        }
        let mut legend = false;
        for s in &self.series {
            let color = Palette99::pick(s.color).to_rgba();
            let pts: Vec<(f64, f64)> = s.points.iter().filter_map(|&p| self.transform(p)).collect();
            let pts = thin(pts, MAX_LINE_POINTS);
            let drawn = match s.kind {
                Kind::Line => chart
                    .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                    .map_err(|e| err(&e))?,
                Kind::Dots => chart
                    .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))
                    .map_err(|e| err(&e))?,
            };
            if !s.label.is_empty() {
                legend = true;
                drawn.label(s.label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
                });
            }
        }
        if legend {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))?;
        Ok(())
    }
}

/// Long runs (10^5 iterations) would make multi-megabyte SVGs; a line keeps at most this
/// many points, evenly spaced, which is far below what the eye can resolve anyway.
pub const MAX_LINE_POINTS: usize = 1500;

fn thin(pts: Vec<(f64, f64)>, max: usize) -> Vec<(f64, f64)> {
    if pts.len() <= max {
        return pts;
    }
    let stride = pts.len().div_ceil(max);
    let last = *pts.last().expect("non-empty");
    let mut out: Vec<(f64, f64)> = pts.into_iter().step_by(stride).collect();
    if out.last() != Some(&last) {
        out.push(last);
    }
    out
}

/// A fresh, empty directory under the system temp dir, for tests that write figures.
pub fn scratch_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("labs-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_the_ends_and_the_budget() {
        let pts: Vec<(f64, f64)> = (0..10_001).map(|k| (k as f64, 0.0)).collect();
        let t = thin(pts, 1000);
        assert!(t.len() <= 1001);
        assert_eq!((t[0].0, t.last().unwrap().0), (0.0, 10_000.0));
    }

    #[test]
    fn writes_an_svg_with_log_axes_and_shade() {
        let dir = scratch_dir("plot");
        let path = dir.join("t.svg");
        let mut c = Chart::new("test", "k", "v");
        c.log_y = true;
        c.series.push(Series::line(
            "geometric",
            0,
            (0..20).map(|k| (k as f64, 0.5f64.powi(k))).collect(),
        ));
        c.series.push(Series::dots("", 1, vec![(1.0, 0.0)]));
        c.write_svg(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("<svg") && text.contains("log10 v"));

        let mut s = Chart::new("shade", "x", "y");
        s.shade = Some(Shade::sample((-1.0, 1.0), (-1.0, 1.0), 8, |x, y| {
            x * x + y * y
        }));
        s.write_svg(&dir.join("s.svg")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
