//! A small text chart of HAZ and WAZ over time, for `child show`.
//!
//! One column per measurement, rows from +3 to −4 SD in half-SD steps; the −2
//! and −3 lines (the stunting and severe-stunting cut-offs) are drawn so a
//! falling curve is seen at a glance, even on a phone terminal.

use chrono::NaiveDate;

/// One point: date, HAZ and WAZ (rounded, in hundredths).
#[derive(Debug, Clone, Copy)]
pub struct Point {
    pub date: NaiveDate,
    pub haz: Option<i32>,
    pub waz: Option<i32>,
}

const TOP: i32 = 300;
const BOTTOM: i32 = -400;
const STEP: i32 = 50;

/// Row index of a z (in hundredths), clamped into the chart.
fn row_of(centi: i32) -> usize {
    let c = centi.clamp(BOTTOM, TOP);
    // Round to the nearest half SD.
    let from_top = (TOP - c + STEP / 2) / STEP;
    from_top as usize
}

/// Renders the chart; empty when there is nothing to plot.
pub fn render(points: &[Point], legend: &str) -> String {
    if points.iter().all(|p| p.haz.is_none() && p.waz.is_none()) {
        return String::new();
    }
    let rows = ((TOP - BOTTOM) / STEP + 1) as usize;
    let mut grid = vec![vec![' '; points.len()]; rows];
    for (col, p) in points.iter().enumerate() {
        let h = p.haz.map(row_of);
        let w = p.waz.map(row_of);
        if let Some(r) = h {
            grid[r][col] = 'H';
        }
        if let Some(r) = w {
            grid[r][col] = if h == Some(r) { '*' } else { 'W' };
        }
    }
    let mut out = String::new();
    for (r, cells) in grid.iter().enumerate() {
        let z = TOP - r as i32 * STEP;
        let fill = match z {
            -200 | -300 => '-',
            0 => '.',
            _ => ' ',
        };
        let label = if z % 100 == 0 {
            format!("{:+}", z / 100)
        } else {
            String::new()
        };
        out.push_str(&format!("{label:>3} |"));
        for &c in cells {
            out.push(' ');
            out.push(if c == ' ' { fill } else { c });
            out.push(fill);
        }
        out.push('\n');
    }
    out.push_str("    +");
    out.push_str(&"---".repeat(points.len()));
    out.push('\n');
    out.push_str("     ");
    for p in points {
        out.push_str(&format!(" {}", &p.date.format("%m").to_string()));
    }
    out.push('\n');
    out.push_str(&format!("     {legend}\n"));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(m: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, 4).unwrap()
    }

    #[test]
    fn rows_map_half_sd_steps() {
        assert_eq!(row_of(300), 0);
        assert_eq!(row_of(0), 6);
        assert_eq!(row_of(-200), 10);
        assert_eq!(row_of(-215), 10);
        assert_eq!(row_of(-240), 11);
        assert_eq!(row_of(-999), 14);
    }

    #[test]
    fn points_land_on_their_rows() {
        let pts = [
            Point {
                date: d(3),
                haz: Some(-150),
                waz: Some(-150),
            },
            Point {
                date: d(4),
                haz: Some(-250),
                waz: Some(0),
            },
        ];
        let chart = render(&pts, "H = TB/U");
        let lines: Vec<&str> = chart.lines().collect();
        // Row 9 is −1.5: both indices coincide in the first column.
        assert!(lines[9].contains('*'), "{chart}");
        // Row 11 is −2.5: HAZ of the second column.
        assert_eq!(lines[11].matches('H').count(), 1, "{chart}");
        assert!(lines[6].contains('W'), "{chart}");
        assert!(chart.ends_with("H = TB/U\n"));
    }

    #[test]
    fn nothing_to_plot_gives_nothing() {
        assert_eq!(
            render(
                &[Point {
                    date: d(3),
                    haz: None,
                    waz: None
                }],
                ""
            ),
            ""
        );
    }
}
