//! The side-by-side tables (markdown) and the throughput-vs-connections SVG plot.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

/// A record's number field.
pub(crate) fn f(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(Value::as_f64)
}
/// A record's string field ("" when absent).
pub(crate) fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn ratio(r: Option<f64>, z: Option<f64>) -> String {
    match (r, z) {
        (Some(r), Some(z)) if z > 0.0 => format!("{:.2}", r / z),
        _ => "–".into(),
    }
}

/// A figure with three significant digits or so, "–" when absent.
pub(crate) fn num(x: Option<f64>) -> String {
    match x {
        None => "–".into(),
        Some(x) if x >= 100.0 => format!("{x:.0}"),
        Some(x) if x >= 10.0 => format!("{x:.1}"),
        Some(x) => format!("{x:.2}"),
    }
}

/// The first record of `server` that `pred` accepts.
pub(crate) fn find<'a>(
    recs: &'a [Value],
    server: &str,
    pred: impl Fn(&Value) -> bool,
) -> Option<&'a Value> {
    recs.iter().find(|r| s(r, "server") == server && pred(r))
}

/// A load point's shape as the tables print it: `8×100`, or `8×open 15000/s`.
pub(crate) fn shape(r: &Value) -> String {
    if s(r, "mode") == "open" {
        format!("{}×open {}/s", r["conns"], f(r, "rate").unwrap_or(0.0))
    } else {
        format!("{}×{}", r["conns"], r["depth"])
    }
}

/// Whether two load records measured the same point (workload, loop, shape, value size
/// and rate), whichever server each was.
pub(crate) fn same_point(a: &Value, b: &Value) -> bool {
    s(b, "kind") == "load"
        && s(a, "workload") == s(b, "workload")
        && s(a, "mode") == s(b, "mode")
        && a["conns"] == b["conns"]
        && a["depth"] == b["depth"]
        && a["size"] == b["size"]
        && a.get("rate") == b.get("rate")
}

/// The throughput table: one row per closed/open-loop point, both servers and ratios,
/// and when the run included the floor server, its CPU per op and p99 at the same point
/// (what the kernel alone costs there).
pub fn load_table(recs: &[Value]) -> String {
    let with_floor = recs.iter().any(|r| s(r, "server") == "floor");
    let with_steal = recs.iter().any(|r| f(r, "steal_pct").is_some());
    let mut cols = vec![
        "workload",
        "conns×depth",
        "value",
        "rzk ops/s",
        "ZK ops/s",
        "ratio",
        "rzk CPU µs/op",
        "ZK CPU µs/op",
        "ratio",
        "rzk p99 µs",
        "ZK p99 µs",
        "ratio",
    ];
    if with_floor {
        cols.extend(["floor CPU µs/op", "floor p99 µs"]);
    }
    if with_steal {
        cols.push("steal % rzk / ZK");
    }
    let mut out = format!("| {} |\n|{}\n", cols.join(" | "), "---|".repeat(cols.len()));
    let mut seen: Vec<&Value> = Vec::new();
    for r in recs.iter().filter(|r| s(r, "kind") == "load") {
        if seen.iter().any(|x| same_point(x, r)) {
            continue;
        }
        seen.push(r);
        let same = |x: &Value| same_point(r, x);
        let (a, b) = (find(recs, "rzk", same), find(recs, "zookeeper", same));
        let fl = find(recs, "floor", same);
        let g = |v: Option<&Value>, k| v.and_then(|v| f(v, k));
        let open = s(r, "mode") == "open";
        let p99 = if open { "p99_sched_us" } else { "p99_us" };
        let _ = write!(
            out,
            "| {} | {} | {} B | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s(r, "workload"),
            shape(r),
            r["size"],
            num(g(a, "ops_per_sec")),
            num(g(b, "ops_per_sec")),
            ratio(g(a, "ops_per_sec"), g(b, "ops_per_sec")),
            num(g(a, "server_cpu_us_per_op")),
            num(g(b, "server_cpu_us_per_op")),
            ratio(g(a, "server_cpu_us_per_op"), g(b, "server_cpu_us_per_op")),
            num(g(a, p99)),
            num(g(b, p99)),
            ratio(g(a, p99), g(b, p99)),
        );
        if with_floor {
            let _ = write!(
                out,
                " {} | {} |",
                num(g(fl, "server_cpu_us_per_op")),
                num(g(fl, p99))
            );
        }
        if with_steal {
            let pct =
                |v: Option<&Value>| g(v, "steal_pct").map_or("–".into(), |p| format!("{p:.0}"));
            let _ = write!(out, " {} / {} |", pct(a), pct(b));
        }
        out.push('\n');
    }
    out
}

/// The other figures: churn, fan-out, memory, restart, and the C-client cross-check.
/// With the floor in the run, its churn and fan-out figures get a column of their own.
pub fn other_table(recs: &[Value]) -> String {
    let with_floor = recs.iter().any(|r| s(r, "server") == "floor");
    // (label, rzk, ZooKeeper, floor)
    type Row = (String, Option<f64>, Option<f64>, Option<f64>);
    let mut rows: Vec<Row> = Vec::new();
    let pick = |server: &str, kind: &str, k: &str| {
        find(recs, server, |r| s(r, "kind") == kind).and_then(|r| f(r, k))
    };
    let mut add = |label: &str, kind: &str, k: &str, scale: f64| {
        let g = |srv| pick(srv, kind, k).map(|x| x * scale);
        rows.push((label.to_string(), g("rzk"), g("zookeeper"), g("floor")));
    };
    add(
        "session churn, sessions/s (connect+close)",
        "churn",
        "sessions_per_sec",
        1.0,
    );
    add(
        "session churn, server CPU µs/session",
        "churn",
        "server_cpu_us_per_session",
        1.0,
    );
    add(
        "watch fan-out: setData → last notification, ms (median round)",
        "fanout",
        "median_last_us",
        1e-3,
    );
    add(
        "watch fan-out: per-notification p50, ms",
        "fanout",
        "notify_p50_us",
        1e-3,
    );
    add(
        "memory: RSS after the znodes, MB",
        "memory",
        "rss_after",
        1.0 / 1048576.0,
    );
    add(
        "memory: RSS growth per znode, bytes",
        "memory",
        "bytes_per_znode",
        1.0,
    );
    add(
        "memory: bulk create rate, znodes/s (8×100)",
        "memory",
        "create_per_sec",
        1.0,
    );
    add(
        "memory: dataDir size, MB",
        "memory",
        "data_dir_bytes",
        1.0 / 1048576.0,
    );
    add(
        "snapshot of the full tree (after restart): size, MB",
        "memory",
        "snapshot_bytes",
        1.0 / 1048576.0,
    );
    add(
        "snapshot: bytes per znode",
        "memory",
        "snapshot_bytes_per_znode",
        1.0,
    );
    add(
        "snapshot: write time (file appears → complete), s",
        "memory",
        "snapshot_secs",
        1.0,
    );
    add(
        "snapshot: write time the server reports (rzk log, ZK mntr), s",
        "memory",
        "snapshot_server_ms",
        1e-3,
    );
    add(
        "restart with the znodes: spawn → first read, s",
        "restart",
        "secs_to_first_read",
        1.0,
    );
    add(
        "restart: RSS after restart, MB",
        "restart",
        "rss_after_restart",
        1.0 / 1048576.0,
    );
    let mut out = String::from(if with_floor {
        "| figure | rzk | ZK | rzk/ZK | floor |\n|---|---|---|---|---|\n"
    } else {
        "| figure | rzk | ZK | rzk/ZK |\n|---|---|---|---|\n"
    });
    for (label, a, b, fl) in rows {
        if a.is_some() || b.is_some() || fl.is_some() {
            let _ = write!(
                out,
                "| {label} | {} | {} | {} |",
                num(a),
                num(b),
                ratio(a, b)
            );
            if with_floor {
                let _ = write!(out, " {} |", num(fl));
            }
            out.push('\n');
        }
    }
    out
}

/// Per server: the hypervisor's steal time over its load points (mean and worst point).
/// A point that lost a large share of its CPU to other guests has latencies and CPU
/// figures that say more about the host than about the server.
pub fn steal_summary(recs: &[Value]) -> String {
    let mut out = String::new();
    for server in ["rzk", "zookeeper", "floor"] {
        let pts: Vec<f64> = recs
            .iter()
            .filter(|r| s(r, "kind") == "load" && s(r, "server") == server)
            .filter_map(|r| f(r, "steal_pct"))
            .collect();
        if pts.is_empty() {
            continue;
        }
        let mean = pts.iter().sum::<f64>() / pts.len() as f64;
        let worst = pts.iter().copied().fold(0.0, f64::max);
        let _ = writeln!(
            out,
            "{server}: hypervisor steal over its {} load points: mean {mean:.1} %, worst point {worst:.1} % of CPU time",
            pts.len()
        );
    }
    out
}

/// Per server: packets the server counted (`mntr`) over all load points, divided by the
/// packets the harness says it sent. 1.00 means the client's op counts are the server's.
pub fn packet_check(recs: &[Value]) -> String {
    let mut out = String::new();
    for server in ["rzk", "zookeeper", "floor"] {
        let (mut srv, mut cli) = (0.0, 0.0);
        for r in recs
            .iter()
            .filter(|r| s(r, "kind") == "load" && s(r, "server") == server)
        {
            if let (Some(a), Some(b)) =
                (f(r, "server_packets_received"), f(r, "client_packets_sent"))
            {
                srv += a;
                cli += b;
            }
        }
        if cli > 0.0 {
            let _ = writeln!(
                out,
                "{server}: server-counted packets (mntr zk_packets_received) / harness-sent packets over all load points = {srv:.0} / {cli:.0} = {:.4}",
                srv / cli
            );
        }
    }
    out
}

/// The cross-check table: Rust (jute) client against the C client at the same points.
pub fn cross_table(recs: &[Value]) -> String {
    let mut out = String::from(
        "| server | workload | conns×depth | Rust client ops/s | C client ops/s | Rust/C | Rust p50 µs | C p50 µs | Rust p99 µs | C p99 µs | Rust client CPU µs/op | C client CPU µs/op (whole run) |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for c in recs
        .iter()
        .filter(|r| s(r, "kind") == "cload" && r.get("ops_per_sec").is_some())
    {
        let rust = recs.iter().find(|r| {
            s(r, "kind") == "load"
                && s(r, "mode") == "closed"
                && s(r, "server") == s(c, "server")
                && s(r, "workload") == s(c, "workload")
                && r["conns"] == c["conns"]
                && r["depth"] == c["depth"]
                && r["size"] == c["size"]
        });
        let g = |k| rust.and_then(|r| f(r, k));
        let _ = writeln!(
            out,
            "| {} | {} | {}×{} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s(c, "server"),
            s(c, "workload"),
            c["conns"],
            c["depth"],
            num(g("ops_per_sec")),
            num(f(c, "ops_per_sec")),
            ratio(g("ops_per_sec"), f(c, "ops_per_sec")),
            num(g("p50_us")),
            num(f(c, "p50_us")),
            num(g("p99_us")),
            num(f(c, "p99_us")),
            num(g("client_cpu_us_per_op")),
            num(f(c, "client_cpu_whole_run_s")
                .zip(f(c, "ops"))
                .map(|(c, o)| c * 1e6 / o.max(1.0))),
        );
    }
    out
}

/// A line chart (SVG) of closed-loop ops/s against connections at depth 100, 100 B values,
/// one line per (server, workload) for getdata and setdata.
pub fn svg_plot(recs: &[Value], title: &str) -> String {
    let mut series: BTreeMap<(String, String), Vec<(f64, f64)>> = BTreeMap::new();
    for r in recs
        .iter()
        .filter(|r| s(r, "kind") == "load" && s(r, "mode") == "closed" && s(r, "server") != "floor")
    {
        let w = s(r, "workload");
        if (w == "getdata" || w == "setdata")
            && f(r, "depth") == Some(100.0)
            && f(r, "size") == Some(100.0)
        {
            if let (Some(c), Some(t)) = (f(r, "conns"), f(r, "ops_per_sec")) {
                series
                    .entry((s(r, "server").into(), w.into()))
                    .or_default()
                    .push((c, t));
            }
        }
    }
    let (w, h, l, rgt, top, bot) = (720.0, 440.0, 80.0, 200.0, 40.0, 50.0);
    let xs: Vec<f64> = series.values().flatten().map(|p| p.0).collect();
    let xmax = xs.iter().cloned().fold(2.0, f64::max);
    // Log y axis, whole decades, so a 10x gap between the servers stays readable.
    let ys = series.values().flatten().map(|p| p.1.max(1.0));
    let ymax = 10f64.powf(ys.clone().fold(1.0, f64::max).log10().ceil());
    let ymin = 10f64
        .powf(ys.fold(ymax, f64::min).log10().floor())
        .min(ymax / 10.0);
    let px = |x: f64| l + (x.log2() / xmax.log2()) * (w - l - rgt);
    let py = |y: f64| {
        let t = (y.max(ymin).log10() - ymin.log10()) / (ymax.log10() - ymin.log10());
        h - bot - t * (h - top - bot)
    };
    let mut o = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{l}\" y=\"22\" font-size=\"14\">{title}</text>\n"
    );
    let _ = writeln!(
        o,
        "<line x1=\"{l}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>",
        h - bot,
        w - rgt,
        h - bot
    );
    let _ = writeln!(
        o,
        "<line x1=\"{l}\" y1=\"{top}\" x2=\"{l}\" y2=\"{}\" stroke=\"black\"/>",
        h - bot
    );
    let mut c = 1.0;
    while c <= xmax {
        let _ = writeln!(
            o,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{c}</text>",
            px(c),
            h - bot + 16.0
        );
        c *= 2.0;
    }
    let _ = writeln!(o, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">connections (depth 100, 100 B values)</text>", (l + w - rgt) / 2.0, h - 12.0);
    let mut y = ymin;
    while y <= ymax * 1.001 {
        let label = if y >= 1e6 {
            format!("{}M", y / 1e6)
        } else if y >= 1e3 {
            format!("{}k", y / 1e3)
        } else {
            format!("{y}")
        };
        let _ = writeln!(o, "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{label}</text><line x1=\"{l}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#ddd\"/>", l - 6.0, py(y) + 4.0, py(y), w - rgt, py(y));
        y *= 10.0;
    }
    let _ = writeln!(o, "<text x=\"16\" y=\"{}\" transform=\"rotate(-90 16 {})\" text-anchor=\"middle\">ops/s (log scale)</text>", (top + h - bot) / 2.0, (top + h - bot) / 2.0);
    for (i, ((server, wl), pts)) in series.iter_mut().enumerate() {
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let color = if server == "rzk" {
            "#c0392b"
        } else {
            "#2c6fbb"
        };
        let dash = if wl == "setdata" {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let d: Vec<String> = pts
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
            .collect();
        let _ = writeln!(
            o,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"{dash} points=\"{}\"/>",
            d.join(" ")
        );
        for (x, y) in pts.iter() {
            let _ = writeln!(
                o,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>",
                px(*x),
                py(*y)
            );
        }
        let ly = top + 20.0 + i as f64 * 20.0;
        let _ = writeln!(o, "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{color}\" stroke-width=\"2\"{dash}/><text x=\"{}\" y=\"{}\">{} {}</text>", w - rgt + 15.0, w - rgt + 45.0, w - rgt + 52.0, ly + 4.0, if server == "rzk" { "rzk" } else { "ZooKeeper" }, wl);
    }
    o.push_str("</svg>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// One getData point measured on rzk and on ZooKeeper.
    fn getdata_pair() -> Vec<Value> {
        vec![
            json!({"kind":"load","server":"rzk","workload":"getdata","mode":"closed","conns":8,"depth":100,"size":100,"ops_per_sec":300.0,"server_cpu_us_per_op":1.0,"p99_us":10}),
            json!({"kind":"load","server":"zookeeper","workload":"getdata","mode":"closed","conns":8,"depth":100,"size":100,"ops_per_sec":100.0,"server_cpu_us_per_op":3.0,"p99_us":30}),
        ]
    }

    #[test]
    fn tables_pair_servers() {
        let recs = getdata_pair();
        let t = load_table(&recs);
        assert!(
            t.contains("| getdata | 8×100 | 100 B | 300 | 100 | 3.00 |"),
            "{t}"
        );
        let svg = svg_plot(&recs, "t");
        assert!(svg.starts_with("<svg") && svg.contains("polyline"));
    }

    #[test]
    fn steal_gets_a_column_when_recorded() {
        let mut recs = getdata_pair();
        assert!(!load_table(&recs).contains("steal"));
        recs[0]["steal_pct"] = json!(12.4);
        let t = load_table(&recs);
        let mut lines = t.lines();
        let header = lines.next().unwrap_or_default();
        let rule = lines.next().unwrap_or_default();
        assert!(header.ends_with("| steal % rzk / ZK |"), "{t}");
        assert_eq!(
            header.matches(" | ").count() + 1,
            rule.matches("---|").count()
        );
        assert!(t.contains("| 30.0 | 0.33 | 12 / – |"), "{t}");
    }

    #[test]
    fn steal_is_summarised_per_server() {
        let recs = vec![
            json!({"kind":"load","server":"rzk","steal_pct":2.0}),
            json!({"kind":"load","server":"rzk","steal_pct":6.0}),
            json!({"kind":"load","server":"zookeeper"}),
            json!({"kind":"fanout","server":"floor","steal_pct":50.0}),
        ];
        assert_eq!(
            steal_summary(&recs),
            "rzk: hypervisor steal over its 2 load points: mean 4.0 %, worst point 6.0 % of CPU time\n"
        );
    }

    #[test]
    fn the_floor_adds_its_columns_and_stays_off_the_plot() {
        let mut recs = getdata_pair();
        assert!(!load_table(&recs).contains("floor"));
        recs.push(json!({"kind":"load","server":"floor","workload":"getdata","mode":"closed","conns":8,"depth":100,"size":100,"ops_per_sec":900.0,"server_cpu_us_per_op":0.5,"p99_us":4}));
        let t = load_table(&recs);
        assert!(t.contains("| 30.0 | 0.33 | 0.50 | 4.00 |\n"), "{t}");
        assert!(!svg_plot(&recs, "t").contains("floor"));
    }
}
