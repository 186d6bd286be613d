//! Draws the sweep's figures as SVG: throughput, and latency p50/p99, against concurrency,
//! one line per signer key type. Input: the JSON lines the load generator printed with
//! `--json` (closed-loop runs; open-loop runs are skipped).
//!
//! `cargo run --release -p cairn-bench --bin plot -- --out docs/img results/*.jsonl`

use anyhow::Context as _;
use clap::Parser;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Plot load generator results.
#[derive(Parser, Debug)]
#[command(name = "plot")]
struct Args {
    /// Where to write throughput.svg and latency.svg.
    #[arg(long, default_value = "docs/img")]
    out: PathBuf,
    /// Files of JSON lines from `loadgen --json`.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
}

/// One closed-loop run.
struct Point {
    concurrency: f64,
    per_second: f64,
    p50: f64,
    p99: f64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut series: BTreeMap<String, Vec<Point>> = BTreeMap::new();
    for path in &args.inputs {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        for line in text.lines().filter(|l| l.starts_with('{')) {
            let v: serde_json::Value = serde_json::from_str(line)?;
            if !v["open_loop_rate"].is_null() {
                continue;
            }
            let num = |x: &serde_json::Value| x.as_f64().context("a number is missing");
            series
                .entry(v["key_type"].as_str().unwrap_or("?").to_string())
                .or_default()
                .push(Point {
                    concurrency: num(&v["concurrency"])?,
                    per_second: num(&v["entries_per_second"])?,
                    p50: num(&v["latency_ms"]["p50"])?,
                    p99: num(&v["latency_ms"]["p99"])?,
                });
        }
    }
    anyhow::ensure!(!series.is_empty(), "no closed-loop results in the inputs");
    for points in series.values_mut() {
        points.sort_by(|a, b| a.concurrency.total_cmp(&b.concurrency));
    }
    std::fs::create_dir_all(&args.out)?;
    let max_c = fold(&series, |p| p.concurrency) * 1.5;
    let colors = [&BLUE, &RED, &GREEN, &MAGENTA];

    let path = args.out.join("throughput.svg");
    {
        let root = SVGBackend::new(&path, (720, 420)).into_drawing_area();
        root.fill(&WHITE)?;
        let top = fold(&series, |p| p.per_second) * 1.15;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Durable entries/s against concurrent clients",
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d((1f64..max_c).log_scale(), 0f64..top)?;
        chart
            .configure_mesh()
            .x_desc("concurrent clients (keep-alive, closed loop)")
            .y_desc("entries/s")
            .draw()?;
        for ((name, points), color) in series.iter().zip(colors.iter().cycle()) {
            let line: Vec<(f64, f64)> = points
                .iter()
                .map(|p| (p.concurrency, p.per_second))
                .collect();
            chart
                .draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart.draw_series(
                line.into_iter()
                    .map(|xy| Circle::new(xy, 3, color.filled())),
            )?;
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()?;
        root.present()?;
    }

    let path = args.out.join("latency.svg");
    {
        let root = SVGBackend::new(&path, (720, 420)).into_drawing_area();
        root.fill(&WHITE)?;
        let top = fold(&series, |p| p.p99) * 1.5;
        let bottom = series
            .values()
            .flatten()
            .map(|p| p.p50)
            .fold(f64::INFINITY, f64::min)
            .max(0.01)
            / 1.5;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Latency to a durable inclusion proof (p50 solid, p99 dashed)",
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d((1f64..max_c).log_scale(), (bottom..top).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("concurrent clients (keep-alive, closed loop)")
            .y_desc("ms")
            .draw()?;
        for ((name, points), color) in series.iter().zip(colors.iter().cycle()) {
            let p50: Vec<(f64, f64)> = points.iter().map(|p| (p.concurrency, p.p50)).collect();
            let p99: Vec<(f64, f64)> = points.iter().map(|p| (p.concurrency, p.p99)).collect();
            chart
                .draw_series(LineSeries::new(p50, color.stroke_width(2)))?
                .label(format!("{name} p50"))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart
                .draw_series(DashedLineSeries::new(p99, 6, 4, color.stroke_width(1)))?
                .label(format!("{name} p99"))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(1))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()?;
        root.present()?;
    }
    println!(
        "wrote {} and {}",
        args.out.join("throughput.svg").display(),
        path.display()
    );
    Ok(())
}

/// The largest value of `f` over every point.
fn fold(series: &BTreeMap<String, Vec<Point>>, f: impl Fn(&Point) -> f64) -> f64 {
    series.values().flatten().map(f).fold(0.0, f64::max)
}
