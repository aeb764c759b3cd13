//! The performance bar of rzk's benchmark issue, checked figure by figure against one
//! run's records, so the verdicts come out of the same command as the tables.
//!
//! Every figure is rzk's value against a limit derived from ZooKeeper's value in the same
//! run (3× its throughput, ⅓ of its CPU per op, …). Where the run also measured the floor
//! server (`bench/c/zk_floor.c`, which does nothing but the kernel's part of each point),
//! the floor's figure is held to the same limit: a miss where the floor misses too is
//! bounded by the machine, since no server does less than the floor there, while a miss
//! with the floor inside the limit is the server's own to fix. A throughput above the
//! floor's is counted with the latter (the floor does one thing at a time, so its
//! throughput bounds nothing there).

use crate::report::{f, find, num, s, same_point, shape};
use serde_json::Value;
use std::fmt::Write;

/// A stall counts as multi-millisecond from this long on (open-loop p999, µs).
const STALL_US: f64 = 2000.0;

/// How one figure stands against the bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// rzk is inside the limit.
    Holds,
    /// rzk is outside the limit and the floor (or no floor was measured) is inside it.
    Misses,
    /// rzk is outside the limit and so is the floor: the machine bounds this figure. Not
    /// for a throughput rzk exceeds the floor's: the floor does one thing at a time (read,
    /// log, fsync, reply on one thread), so its throughput is no ceiling where a server
    /// overlaps them.
    BelowFloor,
}

/// One figure held to the bar.
#[derive(Debug, Clone)]
pub struct Check {
    /// The bar, as the issue words it.
    pub bar: &'static str,
    /// Which point or figure ("setdata 8×100 100 B", "fan-out, ms").
    pub point: String,
    /// rzk's figure.
    pub rzk: f64,
    /// The limit rzk has to stay inside.
    pub limit: f64,
    /// Whether larger figures are better (throughput) or smaller (CPU, latency, memory).
    pub higher_is_better: bool,
    /// The floor server's figure at the same point, when measured.
    pub floor: Option<f64>,
    /// Hypervisor steal over rzk's and ZooKeeper's windows (%), when recorded.
    pub steal: (Option<f64>, Option<f64>),
}

impl Check {
    fn inside(&self, x: f64) -> bool {
        if self.higher_is_better {
            x >= self.limit
        } else {
            x <= self.limit
        }
    }

    /// Whether rzk's throughput is above `floor`'s (never for lower-is-better figures).
    fn passes(&self, floor: f64) -> bool {
        self.higher_is_better && self.rzk > floor
    }

    /// The verdict for this figure.
    pub fn verdict(&self) -> Verdict {
        if self.inside(self.rzk) {
            Verdict::Holds
        } else if self
            .floor
            .is_some_and(|fl| !self.inside(fl) && !self.passes(fl))
        {
            Verdict::BelowFloor
        } else {
            Verdict::Misses
        }
    }
}

/// Name of a load point as the tables print it.
fn point_name(r: &Value) -> String {
    if s(r, "mode") == "open" {
        format!("{} {}", s(r, "workload"), shape(r))
    } else {
        format!("{} {} {} B", s(r, "workload"), shape(r), r["size"])
    }
}

/// Every figure the bar names that this run measured on both rzk and ZooKeeper.
pub fn checks(recs: &[Value]) -> Vec<Check> {
    let mut out = Vec::new();
    for a in recs
        .iter()
        .filter(|r| s(r, "kind") == "load" && s(r, "server") == "rzk")
    {
        let Some(b) = find(recs, "zookeeper", |x| same_point(a, x)) else {
            continue;
        };
        let fl = find(recs, "floor", |x| same_point(a, x));
        let open = s(a, "mode") == "open";
        let point = point_name(a);
        let steal = (f(a, "steal_pct"), f(b, "steal_pct"));
        let mut add = |bar, key: &str, limit: &dyn Fn(f64) -> f64, higher_is_better| {
            if let (Some(x), Some(z)) = (f(a, key), f(b, key)) {
                out.push(Check {
                    bar,
                    point: point.clone(),
                    rzk: x,
                    limit: limit(z),
                    higher_is_better,
                    floor: fl.and_then(|v| f(v, key)),
                    steal,
                });
            }
        };
        let big_writes_or_reads = s(a, "mode") == "closed"
            && a["conns"] == 8
            && a["depth"] == 100
            && matches!(s(a, "workload"), "create" | "setdata" | "getdata");
        if big_writes_or_reads {
            add(
                "throughput ≥ 3× at 8×100",
                "ops_per_sec",
                &|z| 3.0 * z,
                true,
            );
        }
        add(
            "server CPU per op ≤ ⅓",
            "server_cpu_us_per_op",
            &|z| z / 3.0,
            false,
        );
        if open {
            add(
                "p99 ≤ ⅓ at the same load",
                "p99_sched_us",
                &|z| z / 3.0,
                false,
            );
            add(
                "p999 without multi-ms stalls (< 2 ms)",
                "p999_us",
                &|_| STALL_US,
                false,
            );
        }
    }
    // (bar, record kind, field, limit from ZooKeeper's figure, higher is better)
    type Other = (
        &'static str,
        &'static str,
        &'static str,
        fn(f64) -> f64,
        bool,
    );
    let others: [Other; 4] = [
        (
            "server CPU per op ≤ ⅓",
            "churn",
            "server_cpu_us_per_session",
            |z| z / 3.0,
            false,
        ),
        (
            "RSS per znode ≤ ⅕",
            "memory",
            "bytes_per_znode",
            |z| z / 5.0,
            false,
        ),
        (
            "restart ≥ 10× faster",
            "restart",
            "secs_to_first_read",
            |z| z / 10.0,
            false,
        ),
        (
            "fan-out ≥ 5× faster",
            "fanout",
            "median_last_us",
            |z| z / 5.0,
            false,
        ),
    ];
    for (bar, kind, key, limit, higher_is_better) in others {
        let pick = |server| find(recs, server, |r| s(r, "kind") == kind);
        let (Some(a), Some(b)) = (pick("rzk"), pick("zookeeper")) else {
            continue;
        };
        let (Some(x), Some(z)) = (f(a, key), f(b, key)) else {
            continue;
        };
        out.push(Check {
            bar,
            point: format!("{kind} ({key})"),
            rzk: x,
            limit: limit(z),
            higher_is_better,
            floor: pick("floor").and_then(|v| f(v, key)),
            steal: (f(a, "steal_pct"), f(b, "steal_pct")),
        });
    }
    out
}

/// The bar as markdown: per bar, how many figures hold and how many miss (with the floor
/// inside the limit, or outside it too); then every miss with its figures; then one
/// closing line.
pub fn bar_table(recs: &[Value]) -> String {
    let all = checks(recs);
    if all.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "| bar | figures | hold | miss, floor inside the limit | miss, floor outside it too |\n|---|---|---|---|---|\n",
    );
    let mut bars: Vec<&str> = Vec::new();
    for c in &all {
        if !bars.contains(&c.bar) {
            bars.push(c.bar);
        }
    }
    let count = |bar: Option<&str>, v: Verdict| {
        all.iter()
            .filter(|c| bar.is_none_or(|b| c.bar == b) && c.verdict() == v)
            .count()
    };
    for bar in &bars {
        let _ = writeln!(
            out,
            "| {bar} | {} | {} | {} | {} |",
            all.iter().filter(|c| c.bar == *bar).count(),
            count(Some(bar), Verdict::Holds),
            count(Some(bar), Verdict::Misses),
            count(Some(bar), Verdict::BelowFloor),
        );
    }
    let misses: Vec<&Check> = all
        .iter()
        .filter(|c| c.verdict() != Verdict::Holds)
        .collect();
    if !misses.is_empty() {
        out.push_str(
            "\n| bar | point | rzk | limit | floor | steal % rzk / ZK | verdict |\n|---|---|---|---|---|---|---|\n",
        );
        let pct = |p: Option<f64>| p.map_or("–".into(), |p| format!("{p:.0}"));
        for c in misses {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} / {} | {} |",
                c.bar,
                c.point,
                num(Some(c.rzk)),
                num(Some(c.limit)),
                num(c.floor),
                pct(c.steal.0),
                pct(c.steal.1),
                match c.verdict() {
                    Verdict::BelowFloor => "misses; the floor misses too (machine-bound)",
                    _ => "misses",
                }
            );
        }
    }
    let _ = writeln!(
        out,
        "\nbar: {} of {} figures hold; {} miss with the floor inside the limit; {} miss where the floor misses too",
        count(None, Verdict::Holds),
        all.len(),
        count(None, Verdict::Misses),
        count(None, Verdict::BelowFloor),
    );
    out
}

#[cfg(test)]
mod tests {
    // Unwraps here assert on records the tests build themselves.
    use super::*;
    use serde_json::json;

    fn load(server: &str, workload: &str, mode: &str, extra: Value) -> Value {
        let mut v = json!({"kind":"load","server":server,"workload":workload,"mode":mode,
            "conns":8,"depth":100,"size":100});
        if mode == "open" {
            v["rate"] = json!(15000.0);
        }
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    }

    fn verdicts(recs: &[Value], bar: &str) -> Vec<Verdict> {
        checks(recs)
            .iter()
            .filter(|c| c.bar == bar)
            .map(Check::verdict)
            .collect()
    }

    #[test]
    fn throughput_and_cpu_are_held_to_zookeepers_figures() {
        let recs = vec![
            load(
                "rzk",
                "setdata",
                "closed",
                json!({"ops_per_sec":310.0,"server_cpu_us_per_op":1.0}),
            ),
            load(
                "zookeeper",
                "setdata",
                "closed",
                json!({"ops_per_sec":100.0,"server_cpu_us_per_op":2.0}),
            ),
        ];
        assert_eq!(
            verdicts(&recs, "throughput ≥ 3× at 8×100"),
            [Verdict::Holds]
        );
        assert_eq!(verdicts(&recs, "server CPU per op ≤ ⅓"), [Verdict::Misses]);
        // Latency bars are read at the open-loop points only.
        assert!(verdicts(&recs, "p99 ≤ ⅓ at the same load").is_empty());
    }

    #[test]
    fn a_throughput_above_the_floors_is_not_bounded_by_it() {
        let point = |server, ops: f64| {
            load(
                server,
                "create",
                "closed",
                json!({"ops_per_sec":ops,"server_cpu_us_per_op":1.0}),
            )
        };
        let bar = "throughput ≥ 3× at 8×100";
        let recs = vec![point("rzk", 250.0), point("zookeeper", 100.0)];
        let with_floor = |fl: f64| [recs.clone(), vec![point("floor", fl)]].concat();
        // Both miss 300; a floor slower than rzk bounds nothing, a faster one does.
        assert_eq!(verdicts(&with_floor(200.0), bar), [Verdict::Misses]);
        assert_eq!(verdicts(&with_floor(280.0), bar), [Verdict::BelowFloor]);
    }

    #[test]
    fn a_miss_is_machine_bound_only_when_the_floor_misses_too() {
        let open = |server, cpu: f64, p99: f64, p999: f64| {
            load(
                server,
                "setdata",
                "open",
                json!({"server_cpu_us_per_op":cpu,"p99_sched_us":p99,"p999_us":p999}),
            )
        };
        let recs = vec![
            open("rzk", 30.0, 500.0, 2500.0),
            open("zookeeper", 60.0, 900.0, 6000.0),
            open("floor", 15.0, 400.0, 1000.0),
        ];
        // CPU: 30 > 20 and the floor's 15 is inside; p99: 500 > 300 and so is the floor's
        // 400; p999: 2.5 ms is a stall, the floor's 1 ms is not.
        assert_eq!(verdicts(&recs, "server CPU per op ≤ ⅓"), [Verdict::Misses]);
        assert_eq!(
            verdicts(&recs, "p99 ≤ ⅓ at the same load"),
            [Verdict::BelowFloor]
        );
        assert_eq!(
            verdicts(&recs, "p999 without multi-ms stalls (< 2 ms)"),
            [Verdict::Misses]
        );
        let t = bar_table(&recs);
        assert!(
            t.contains("| p99 ≤ ⅓ at the same load | setdata 8×open 15000/s | 500 | 300 | 400 | – / – | misses; the floor misses too (machine-bound) |"),
            "{t}"
        );
        assert!(
            t.contains("bar: 0 of 3 figures hold; 2 miss with the floor inside the limit; 1 miss where the floor misses too"),
            "{t}"
        );
    }

    #[test]
    fn whole_run_figures_are_checked_once_each() {
        let recs = vec![
            json!({"kind":"fanout","server":"rzk","median_last_us":8000.0}),
            json!({"kind":"fanout","server":"zookeeper","median_last_us":24000.0}),
            json!({"kind":"fanout","server":"floor","median_last_us":10000.0}),
            json!({"kind":"memory","server":"rzk","bytes_per_znode":280.0}),
            json!({"kind":"memory","server":"zookeeper","bytes_per_znode":2200.0}),
            json!({"kind":"restart","server":"rzk","secs_to_first_read":0.6}),
            json!({"kind":"restart","server":"zookeeper","secs_to_first_read":7.0}),
            json!({"kind":"churn","server":"rzk","server_cpu_us_per_session":90.0}),
            json!({"kind":"churn","server":"zookeeper","server_cpu_us_per_session":450.0}),
        ];
        assert_eq!(
            verdicts(&recs, "fan-out ≥ 5× faster"),
            [Verdict::BelowFloor]
        );
        assert_eq!(verdicts(&recs, "RSS per znode ≤ ⅕"), [Verdict::Holds]);
        assert_eq!(verdicts(&recs, "restart ≥ 10× faster"), [Verdict::Holds]);
        assert_eq!(verdicts(&recs, "server CPU per op ≤ ⅓"), [Verdict::Holds]);
    }

    #[test]
    fn nothing_to_check_prints_nothing() {
        let rzk_only = vec![load("rzk", "getdata", "closed", json!({"ops_per_sec":1.0}))];
        assert_eq!(bar_table(&rzk_only), "");
    }
}
