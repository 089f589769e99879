//! The time chart, drawn on the server as SVG (no chart library, nothing
//! to load): one line per channel, dark social and direct drawn heavier and
//! apart, each series told by its dash pattern and marker as well as its
//! colour, named at the end of its line and in the legend; every bucket has
//! a hover title with its values, and the same figures are offered as a
//! table.

use std::fmt::Write;

use time::{OffsetDateTime, PrimitiveDateTime};

use super::format::{Num, month_name};
use crate::{
    attribution::Channel,
    i18n::Tr,
    stats::{CHANNELS, Interval, view::Bucket},
};

const WIDTH: f32 = 760.0;
const HEIGHT: f32 = 260.0;
const LEFT: f32 = 44.0;
const RIGHT: f32 = 128.0;
const TOP: f32 = 12.0;
const BOTTOM: f32 = 28.0;

/// One channel's line.
#[derive(Debug, Clone)]
pub struct Series {
    /// The channel (`dark_social`), also the CSS class suffix.
    pub key: &'static str,
    /// Its name.
    pub label: &'static str,
    /// Clicks over the range, formatted.
    pub total: String,
    /// SVG `points` of the line.
    pub points: String,
    /// `stroke-dasharray` (empty for a solid line).
    pub dash: &'static str,
    /// Marker shape: `circle`, `square` or `none`.
    pub marker: &'static str,
    /// Marker positions (only when the buckets are few enough to read them).
    pub markers: Vec<(f32, f32)>,
    /// Where the end label sits.
    pub label_y: f32,
}

/// An axis tick.
#[derive(Debug, Clone)]
pub struct Tick {
    /// Position along the axis.
    pub at: f32,
    /// Its text.
    pub label: String,
}

/// A bucket's hover area.
#[derive(Debug, Clone)]
pub struct Column {
    /// Left edge.
    pub x: f32,
    /// Width.
    pub w: f32,
    /// The hover text: the bucket and each series' value.
    pub title: String,
}

/// The chart of a view.
#[derive(Debug, Clone)]
pub struct Chart {
    /// viewBox width.
    pub width: f32,
    /// viewBox height.
    pub height: f32,
    /// Plot area: left, top, right, bottom.
    pub plot: (f32, f32, f32, f32),
    /// Lines, the heaviest last (drawn on top).
    pub series: Vec<Series>,
    /// Value ticks (y).
    pub y_ticks: Vec<Tick>,
    /// Time ticks (x).
    pub x_ticks: Vec<Tick>,
    /// Hover areas, one per bucket.
    pub columns: Vec<Column>,
    /// The table: bucket label, then one value per series.
    pub rows: Vec<(String, Vec<String>)>,
}

/// Dash pattern and marker of each channel: readable without colour.
fn style(c: Channel) -> (&'static str, &'static str) {
    match c {
        Channel::DarkSocial => ("", "circle"),
        Channel::Direct => ("9 5", "square"),
        Channel::Social => ("2 4", "none"),
        Channel::Search => ("12 4 2 4", "none"),
        Channel::Email => ("6 3", "none"),
        Channel::Referral => ("1 3", "none"),
        Channel::Qr => ("4 2 1 2", "none"),
        Channel::Internal => ("14 3", "none"),
    }
}

impl Chart {
    /// The chart of `series` over the bucket grid `grid` (every bucket of
    /// the range, so that buckets without clicks are drawn as zero).
    pub fn new(
        t: Tr,
        grid: &[(OffsetDateTime, PrimitiveDateTime)],
        series: &[Bucket],
        interval: Interval,
    ) -> Option<Chart> {
        if grid.is_empty() {
            return None;
        }
        // Values per channel per grid bucket.
        let channels: Vec<Channel> = CHANNELS
            .iter()
            .copied()
            .filter(|c| {
                series
                    .iter()
                    .any(|b| b.channels.get(c.as_str()).copied().unwrap_or(0) > 0)
            })
            .collect();
        let mut values = vec![vec![0i64; grid.len()]; channels.len()];
        for b in series {
            let Some(i) = grid.iter().position(|(start, _)| *start == b.start) else {
                continue;
            };
            for (s, c) in channels.iter().enumerate() {
                values[s][i] = b.channels.get(c.as_str()).copied().unwrap_or(0);
            }
        }
        let max = values.iter().flatten().copied().max().unwrap_or(0);
        let (step, top) = nice_scale(max);
        let (x0, y0, x1, y1) = (LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM);
        let n = grid.len();
        let slot = (x1 - x0) / n as f32;
        let x_of = |i: usize| x0 + slot * (i as f32 + 0.5);
        let y_of = |v: i64| y1 - (y1 - y0) * (v as f32 / top as f32);
        let labels: Vec<String> = grid
            .iter()
            .map(|(_, local)| bucket_label(t, *local, interval))
            .collect();

        let mut lines: Vec<Series> = channels
            .iter()
            .zip(&values)
            .map(|(c, vals)| {
                let mut points = String::new();
                for (i, v) in vals.iter().enumerate() {
                    let _ = write!(points, "{:.1},{:.1} ", x_of(i), y_of(*v));
                }
                let (dash, marker) = style(*c);
                Series {
                    key: c.as_str(),
                    label: t.get(&format!("channel.{}", c.as_str())),
                    total: Num(vals.iter().sum(), t).to_string(),
                    points: points.trim_end().to_owned(),
                    dash,
                    marker,
                    markers: if marker != "none" && n <= 40 {
                        vals.iter()
                            .enumerate()
                            .map(|(i, v)| (x_of(i), y_of(*v)))
                            .collect()
                    } else {
                        Vec::new()
                    },
                    label_y: y_of(*vals.last().unwrap_or(&0)),
                }
            })
            .collect();
        spread_labels(&mut lines, y0 + 6.0, y1);
        // Dark social and direct drawn last, on top of the others.
        lines.sort_by_key(|s| match s.key {
            "dark_social" => 2,
            "direct" => 1,
            _ => 0,
        });

        let y_ticks = (0..=top / step)
            .map(|k| Tick {
                at: y_of(k * step),
                label: Num(k * step, t).to_string(),
            })
            .collect();
        let every = n.div_ceil(6).max(1);
        let x_ticks = (0..n)
            .filter(|i| i % every == 0)
            .map(|i| Tick {
                at: x_of(i),
                label: labels[i].clone(),
            })
            .collect();
        let columns = (0..n)
            .map(|i| {
                let mut title = labels[i].clone();
                for (c, vals) in channels.iter().zip(&values) {
                    let _ = write!(
                        title,
                        "\n{}: {}",
                        t.get(&format!("channel.{}", c.as_str())),
                        Num(vals[i], t)
                    );
                }
                Column {
                    x: x0 + slot * i as f32,
                    w: slot,
                    title,
                }
            })
            .collect();
        let rows = (0..n)
            .map(|i| {
                (
                    labels[i].clone(),
                    values.iter().map(|v| Num(v[i], t).to_string()).collect(),
                )
            })
            .collect();
        Some(Chart {
            width: WIDTH,
            height: HEIGHT,
            plot: (x0, y0, x1, y1),
            series: lines,
            y_ticks,
            x_ticks,
            columns,
            rows,
        })
    }

    /// The series in table order (the channels' order), for the table's head.
    pub fn table_series(&self) -> Vec<&Series> {
        let mut s: Vec<&Series> = self.series.iter().collect();
        s.sort_by_key(|s| CHANNELS.iter().position(|c| c.as_str() == s.key));
        s
    }

    /// The x of the end labels.
    pub fn label_x(&self) -> f32 {
        self.plot.2 + 8.0
    }
}

/// A step of 1, 2 or 5 × 10ⁿ giving at most five ticks, and the axis top.
fn nice_scale(max: i64) -> (i64, i64) {
    if max <= 0 {
        return (1, 1);
    }
    let mut unit = 1i64;
    loop {
        for m in [1, 2, 5] {
            let step = m * unit;
            let ticks = (max + step - 1) / step;
            if ticks <= 4 {
                return (step, ticks * step);
            }
        }
        unit *= 10;
    }
}

/// Moves end labels apart so that none overlaps another (12 px apart).
fn spread_labels(lines: &mut [Series], min: f32, max: f32) {
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by(|a, b| lines[*a].label_y.total_cmp(&lines[*b].label_y));
    let mut last = f32::MIN;
    for &i in &order {
        let y = lines[i].label_y.max(last + 13.0).max(min);
        lines[i].label_y = y;
        last = y;
    }
    // Pushed past the bottom: shift the whole stack up.
    if let Some(&i) = order.last() {
        let over = lines[i].label_y - max;
        if over > 0.0 {
            for l in lines.iter_mut() {
                l.label_y -= over;
            }
        }
    }
}

/// A bucket's name: `14:00` for hours (with the day at midnight), the day
/// for days and weeks, the month and year for months.
fn bucket_label(t: Tr, local: PrimitiveDateTime, interval: Interval) -> String {
    let day = match t.lang() {
        "fr" => format!("{} {}", local.day(), month_name(t, local.month())),
        _ => format!("{} {}", month_name(t, local.month()), local.day()),
    };
    match interval {
        Interval::Hour => format!("{day} {:02}:00", local.hour()),
        Interval::Day | Interval::Week => day,
        Interval::Month => format!("{} {}", month_name(t, local.month()), local.year()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_are_round() {
        assert_eq!(nice_scale(0), (1, 1));
        assert_eq!(nice_scale(3), (1, 3));
        assert_eq!(nice_scale(7), (2, 8));
        assert_eq!(nice_scale(17), (5, 20));
        assert_eq!(nice_scale(1234), (500, 1500));
    }
}
