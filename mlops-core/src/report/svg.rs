//! Inline SVG charts: grouped bars and line charts.
//!
//! Small on purpose: reports embed a few charts each, must render with no
//! network access and no script, and must not pull a plotting stack into
//! `mlops-core`. Every coordinate is computed here; every label is escaped.

use std::fmt::Write;

use super::html::escape;

const WIDTH: f64 = 440.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 48.0;

/// Series colours: reference / first series, then current / the others.
const PALETTE: [&str; 6] = [
    "#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2",
];

/// A named series of `(x, y)` points for a [`LineChart`].
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Points in drawing order; non-finite points are skipped.
    pub points: Vec<(f64, f64)>,
}

/// A line chart with axes, ticks, a legend and an optional `y = x` diagonal
/// (for ROC and calibration curves).
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    /// Title drawn above the plot.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// The series.
    pub series: Vec<Series>,
    /// Fixed `(min, max)` ranges, or `None` to fit the data.
    pub x_range: Option<(f64, f64)>,
    /// Fixed y range, or `None` to fit the data.
    pub y_range: Option<(f64, f64)>,
    /// Draw the `y = x` reference line.
    pub diagonal: bool,
    /// Mark every point with a dot (useful for short series).
    pub markers: bool,
}

impl LineChart {
    /// A chart with fitted ranges, no diagonal and no markers.
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        LineChart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series: Vec::new(),
            x_range: None,
            y_range: None,
            diagonal: false,
            markers: false,
        }
    }

    /// Renders the chart as one `<svg>` element.
    pub fn to_svg(&self) -> String {
        let finite = || {
            self.series
                .iter()
                .flat_map(|s| s.points.iter().copied())
                .filter(|(x, y)| x.is_finite() && y.is_finite())
        };
        let x = self
            .x_range
            .unwrap_or_else(|| padded(finite().map(|p| p.0), false));
        let y = self
            .y_range
            .unwrap_or_else(|| padded(finite().map(|p| p.1), true));
        let frame = Frame::new(x, y);
        let mut svg = open(&self.title);
        frame.axes(&mut svg, &self.x_label, &self.y_label);
        if self.diagonal {
            let (x0, y0) = frame.at(x.0.max(y.0), x.0.max(y.0));
            let (x1, y1) = frame.at(x.1.min(y.1), x.1.min(y.1));
            let _ = write!(
                svg,
                r##"<line x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{y1:.1}" stroke="#999" stroke-dasharray="4 3"/>"##
            );
        }
        for (i, s) in self.series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let mut path = String::new();
            for &(px, py) in s
                .points
                .iter()
                .filter(|(a, b)| a.is_finite() && b.is_finite())
            {
                let (sx, sy) = frame.at(px, py);
                let _ = write!(path, "{sx:.1},{sy:.1} ");
                if self.markers {
                    let _ = write!(
                        svg,
                        r#"<circle cx="{sx:.1}" cy="{sy:.1}" r="2.5" fill="{colour}"/>"#
                    );
                }
            }
            let _ = write!(
                svg,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
                path.trim_end()
            );
        }
        legend(&mut svg, self.series.iter().map(|s| s.name.as_str()));
        svg.push_str("</svg>");
        svg
    }
}

/// Grouped vertical bars: one group per label, one bar per series (for
/// example the reference and current share of each histogram bin).
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// Title drawn above the plot.
    pub title: String,
    /// Y axis label.
    pub y_label: String,
    /// One label per group (bin range or category).
    pub labels: Vec<String>,
    /// `(series name, one value per label)`.
    pub series: Vec<(String, Vec<f64>)>,
}

impl BarChart {
    /// Renders the chart as one `<svg>` element.
    pub fn to_svg(&self) -> String {
        let max = self
            .series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .filter(|v| v.is_finite())
            .fold(0.0_f64, f64::max);
        let y = (0.0, if max > 0.0 { max * 1.1 } else { 1.0 });
        let frame = Frame::new((0.0, 1.0), y);
        let mut svg = open(&self.title);
        frame.y_axis(&mut svg, &self.y_label);
        let groups = self.labels.len().max(1) as f64;
        let group_w = frame.plot_w() / groups;
        let n_series = self.series.len().max(1) as f64;
        let bar_w = (group_w * 0.8 / n_series).max(0.5);
        // Label every k-th group so long label lists stay readable.
        let every = (self.labels.len() / 10).max(1);
        for (g, label) in self.labels.iter().enumerate() {
            let gx = LEFT + g as f64 * group_w + group_w * 0.1;
            for (s, (_, values)) in self.series.iter().enumerate() {
                let v = values
                    .get(g)
                    .copied()
                    .filter(|v| v.is_finite())
                    .unwrap_or(0.0);
                let (_, top) = frame.at(0.0, v);
                let (_, base) = frame.at(0.0, 0.0);
                let colour = PALETTE[s % PALETTE.len()];
                let _ = write!(
                    svg,
                    r#"<rect x="{:.1}" y="{top:.1}" width="{bar_w:.1}" height="{:.1}" fill="{colour}" fill-opacity="0.85"><title>{}: {v:.4}</title></rect>"#,
                    gx + s as f64 * bar_w,
                    (base - top).max(0.0),
                    escape(label)
                );
            }
            if g % every == 0 {
                let cx = gx + group_w * 0.4;
                let cy = TOP + frame.plot_h() + 12.0;
                let _ = write!(
                    svg,
                    r#"<text x="{cx:.1}" y="{cy:.1}" font-size="9" text-anchor="end" transform="rotate(-30 {cx:.1} {cy:.1})">{}</text>"#,
                    escape(&shorten(label, 14))
                );
            }
        }
        legend(&mut svg, self.series.iter().map(|(n, _)| n.as_str()));
        svg.push_str("</svg>");
        svg
    }
}

/// Maps data coordinates to the plot area.
struct Frame {
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn new(x: (f64, f64), y: (f64, f64)) -> Self {
        Frame {
            x: widen(x),
            y: widen(y),
        }
    }

    fn plot_w(&self) -> f64 {
        WIDTH - LEFT - RIGHT
    }

    fn plot_h(&self) -> f64 {
        HEIGHT - TOP - BOTTOM
    }

    fn at(&self, x: f64, y: f64) -> (f64, f64) {
        let fx = (x - self.x.0) / (self.x.1 - self.x.0);
        let fy = (y - self.y.0) / (self.y.1 - self.y.0);
        (
            LEFT + fx.clamp(0.0, 1.0) * self.plot_w(),
            TOP + (1.0 - fy.clamp(0.0, 1.0)) * self.plot_h(),
        )
    }

    fn y_axis(&self, svg: &mut String, label: &str) {
        let bottom = TOP + self.plot_h();
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#333"/><line x1="{LEFT}" y1="{bottom}" x2="{}" y2="{bottom}" stroke="#333"/>"##,
            WIDTH - RIGHT
        );
        for t in ticks(self.y) {
            let (_, ty) = self.at(self.x.0, t);
            let _ = write!(
                svg,
                r##"<line x1="{}" y1="{ty:.1}" x2="{LEFT}" y2="{ty:.1}" stroke="#333"/><text x="{}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"##,
                LEFT - 4.0,
                LEFT - 6.0,
                ty + 3.5,
                tick_label(t)
            );
        }
        let _ = write!(
            svg,
            r#"<text x="12" y="{:.1}" font-size="11" text-anchor="middle" transform="rotate(-90 12 {:.1})">{}</text>"#,
            TOP + self.plot_h() / 2.0,
            TOP + self.plot_h() / 2.0,
            escape(label)
        );
    }

    fn axes(&self, svg: &mut String, x_label: &str, y_label: &str) {
        self.y_axis(svg, y_label);
        let bottom = TOP + self.plot_h();
        for t in ticks(self.x) {
            let (tx, _) = self.at(t, self.y.0);
            let _ = write!(
                svg,
                r##"<line x1="{tx:.1}" y1="{bottom}" x2="{tx:.1}" y2="{}" stroke="#333"/><text x="{tx:.1}" y="{}" font-size="10" text-anchor="middle">{}</text>"##,
                bottom + 4.0,
                bottom + 16.0,
                tick_label(t)
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" font-size="11" text-anchor="middle">{}</text>"#,
            LEFT + self.plot_w() / 2.0,
            HEIGHT - 8.0,
            escape(x_label)
        );
    }
}

fn open(title: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" font-family="sans-serif"><title>{t}</title><text x="{LEFT}" y="16" font-size="13" font-weight="bold">{t}</text>"#,
        t = escape(title)
    )
}

fn legend<'a>(svg: &mut String, names: impl Iterator<Item = &'a str>) {
    let mut x = WIDTH - RIGHT - 150.0;
    for (i, name) in names.enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let _ = write!(
            svg,
            r#"<rect x="{x:.1}" y="8" width="10" height="10" fill="{colour}"/><text x="{:.1}" y="17" font-size="10">{}</text>"#,
            x + 13.0,
            escape(&shorten(name, 12))
        );
        x += 75.0;
    }
}

/// The data range with 5% padding (from zero when `from_zero` and all
/// values are positive), or `(0, 1)` without data.
fn padded(values: impl Iterator<Item = f64>, from_zero: bool) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let lo = if from_zero && lo > 0.0 { 0.0 } else { lo };
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

/// A non-empty range (constant data gets a unit-wide one).
fn widen((lo, hi): (f64, f64)) -> (f64, f64) {
    if hi - lo > f64::EPSILON * lo.abs().max(1.0) {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    }
}

/// About five "nice" ticks (steps of 1, 2 or 5 times a power of ten).
fn ticks((lo, hi): (f64, f64)) -> Vec<f64> {
    let raw = (hi - lo) / 5.0;
    if !(raw.is_finite() && raw > 0.0) {
        return vec![lo];
    }
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

fn tick_label(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        format!("{v:.1e}")
    } else if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').to_owned()
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_nice_and_inside_the_range() {
        assert_eq!(
            ticks((0.0, 1.0)),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        let t = ticks((3.0, 97.0));
        assert_eq!(t, vec![20.0, 40.0, 60.0, 80.0]);
        assert!(ticks((5.0, 5.0)).len() == 1);
    }

    #[test]
    fn line_chart_places_points_and_escapes_labels() {
        let mut chart = LineChart::new("ROC <test>", "fpr", "tpr");
        chart.x_range = Some((0.0, 1.0));
        chart.y_range = Some((0.0, 1.0));
        chart.diagonal = true;
        chart.series.push(Series {
            name: "a&b".into(),
            points: vec![(0.0, 0.0), (0.5, f64::NAN), (1.0, 1.0)],
        });
        let svg = chart.to_svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("ROC &lt;test&gt;") && svg.contains("a&amp;b"));
        // (0,0) maps to the bottom-left corner, (1,1) to the top-right; the
        // NaN point is skipped.
        let bottom = TOP + (HEIGHT - TOP - BOTTOM);
        assert!(svg.contains(&format!(
            "points=\"{LEFT:.1},{bottom:.1} {:.1},{TOP:.1}\"",
            WIDTH - RIGHT
        )));
    }

    #[test]
    fn bar_heights_are_proportional() {
        let chart = BarChart {
            title: "h".into(),
            y_label: "share".into(),
            labels: vec!["a".into(), "b".into()],
            series: vec![("ref".into(), vec![0.5, 0.25])],
        };
        let svg = chart.to_svg();
        let heights: Vec<f64> = svg
            .match_indices("height=\"")
            .skip(1) // the <svg> element's own height
            .filter_map(|(i, _)| {
                let rest = &svg[i + 8..];
                rest[..rest.find('"')?].parse().ok()
            })
            .filter(|h: &f64| *h < HEIGHT)
            .collect();
        // Two data bars plus one legend swatch (10 px).
        assert_eq!(heights.len(), 3);
        assert!((heights[0] / heights[1] - 2.0).abs() < 0.02, "{heights:?}");
    }
}
