//! The report's charts as inline SVG: a bar of devices by state, compliance over time as
//! lines, and the OS distribution as horizontal bars.
//!
//! Hand-written and small: each chart is a handful of `<rect>`, `<polyline>` and `<text>`
//! elements, scaled by a `viewBox` so it fits any width. Colours are CSS classes
//! (`s-compliant`, `line-0`, …) the page styles for light and dark mode; text is drawn in
//! `currentColor`. Every text from input is escaped here; the result is markup for the page.

use std::fmt::Write as _;

use super::State;
use super::render::{escape, thousands};
use super::summary::Counts;

/// One bar of `counts`, a segment per state (compliant first), as wide as its share.
pub fn state_bar(counts: &Counts, label: &str) -> String {
    const WIDTH: f64 = 1000.0;
    let mut svg = format!(
        "<svg class=\"bar\" viewBox=\"0 0 1000 20\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    let total = counts.total.max(1) as f64;
    let mut x = 0.0;
    for state in State::ALL {
        let n = counts.count(state);
        if n == 0 {
            continue;
        }
        let w = n as f64 / total * WIDTH;
        let _ = write!(
            svg,
            "<rect class=\"s-{name}\" x=\"{x:.1}\" y=\"0\" width=\"{w:.1}\" height=\"20\"><title>{count} {name}</title></rect>",
            name = state.name(),
            count = thousands(n),
        );
        x += w;
    }
    svg.push_str("</svg>");
    svg
}

/// One line of the trend chart: its name and a value (0 to 100) per point, `None` where the
/// series has no value.
pub struct Series<'a> {
    pub name: &'a str,
    pub values: Vec<Option<f64>>,
}

/// Compliance over time: a line per series over the points (`labels`, oldest first), from 0
/// to 100 %. A single point is drawn as a dot.
pub fn trend(labels: &[String], series: &[Series<'_>]) -> String {
    const W: f64 = 640.0;
    const H: f64 = 220.0;
    const LEFT: f64 = 48.0;
    const RIGHT: f64 = 36.0;
    const TOP: f64 = 12.0;
    const BOTTOM: f64 = 40.0;
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |i: usize| {
        if labels.len() <= 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (labels.len() - 1) as f64
        }
    };
    let y = |v: f64| TOP + plot_h * (1.0 - v.clamp(0.0, 100.0) / 100.0);
    let mut svg = format!(
        "<svg class=\"trend\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"compliance over time\">"
    );
    for tick in [0, 25, 50, 75, 100] {
        let ty = y(f64::from(tick));
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{tick}%</text>",
            W - RIGHT,
            LEFT - 6.0,
            ty + 4.0
        );
    }
    // At most about eight date labels, the first and the last always.
    let step = labels.len().div_ceil(8).max(1);
    for (i, label) in labels.iter().enumerate() {
        if i % step == 0 || i + 1 == labels.len() {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                x(i),
                H - BOTTOM + 18.0,
                escape(label.get(..10).unwrap_or(label))
            );
        }
    }
    for (n, line) in series.iter().enumerate() {
        let points: Vec<String> = line
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v))))
            .collect();
        let class = format!("line-{}", n % 6);
        if points.len() == 1 {
            let (cx, cy) = points[0].split_once(',').unwrap_or(("0", "0"));
            let _ = write!(
                svg,
                "<circle class=\"{class}\" cx=\"{cx}\" cy=\"{cy}\" r=\"4\"><title>{}</title></circle>",
                escape(line.name)
            );
        } else if !points.is_empty() {
            let _ = write!(
                svg,
                "<polyline class=\"{class}\" points=\"{}\"><title>{}</title></polyline>",
                points.join(" "),
                escape(line.name)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars, one per (label, count), longest first as given.
pub fn bars(items: &[(String, usize)]) -> String {
    const ROW: usize = 24;
    const LABEL: usize = 210;
    const BAR: f64 = 200.0;
    let height = items.len() * ROW + 4;
    let max = items.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    let mut svg = format!(
        "<svg class=\"bars\" viewBox=\"0 0 480 {height}\" role=\"img\" aria-label=\"devices by OS version\">"
    );
    for (i, (label, n)) in items.iter().enumerate() {
        let top = i * ROW + 2;
        let w = (*n as f64 / max * BAR).max(1.0);
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
             <rect class=\"os\" x=\"{}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\"><title>{} {}</title></rect>\
             <text x=\"{:.1}\" y=\"{}\">{}</text>",
            LABEL - 8,
            top + 16,
            escape(label),
            LABEL,
            top + 3,
            ROW - 6,
            escape(label),
            thousands(*n),
            LABEL as f64 + w + 6.0,
            top + 16,
            thousands(*n)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts() -> Counts {
        Counts {
            total: 4,
            compliant: 2,
            pending: 1,
            failed: 1,
            ..Counts::default()
        }
    }

    #[test]
    fn a_state_bar_has_a_segment_per_state_present_filling_the_width() {
        let svg = state_bar(&counts(), "kiosks <all>");
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("class=\"s-compliant\" x=\"0.0\" y=\"0\" width=\"500.0\""));
        assert!(svg.contains("class=\"s-failed\" x=\"750.0\""));
        assert!(svg.contains("aria-label=\"kiosks &lt;all&gt;\""));
    }

    #[test]
    fn the_trend_draws_a_polyline_per_series_scaled_to_percent() {
        let labels = vec![
            "2027-01-01T00:00:00".to_string(),
            "2027-01-08T00:00:00".to_string(),
        ];
        let svg = trend(
            &labels,
            &[
                Series {
                    name: "fleet",
                    values: vec![Some(0.0), Some(100.0)],
                },
                Series {
                    name: "new",
                    values: vec![None, Some(50.0)],
                },
            ],
        );
        // 0 % at the bottom of the plot (y = 180), 100 % at its top (y = 12).
        assert!(svg.contains("<polyline class=\"line-0\" points=\"48.0,180.0 604.0,12.0\""));
        assert!(svg.contains("<circle class=\"line-1\" cx=\"604.0\" cy=\"96.0\""));
        assert!(svg.contains(">2027-01-08</text>"));
    }

    #[test]
    fn bars_are_scaled_to_the_largest_and_escape_labels() {
        let svg = bars(&[("macOS 26.3.1".into(), 1500), ("<b>".into(), 750)]);
        assert!(svg.contains("width=\"200.0\""));
        assert!(svg.contains("width=\"100.0\""));
        assert!(svg.contains(">1,500</text>"));
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
    }
}
