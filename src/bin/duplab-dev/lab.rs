//! `duplab-dev lab`: how the lab feels with a big store. A synthetic store (1,000 finished
//! runs and one running run whose `metrics.jsonl` has a million lines, written through the
//! store's own functions into a temporary folder) is opened by the real lab — app, effects,
//! store worker — and drawn into an in-memory terminal (ratatui's `TestBackend`: layout and
//! widgets are measured, the terminal's own output is not).

use crossterm::event::{KeyCode, KeyEvent};
use duplab::cli::bench::median;
use duplab::cli::fail;
use duplab::store::{RunStore, synthetic};
use duplab::tui::{Lab, Msg, Options, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};

const RUNS: usize = 1000;
const LINES: usize = 1_000_000;

fn key(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::from(c))
}

fn pct(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v.get(((v.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

pub fn run(repeats: usize) -> i32 {
    let tmp = match tempfile_dir() {
        Ok(t) => t,
        Err(e) => return fail(format!("cannot create a temporary run store: {e}")),
    };
    let out = build_and_measure(&tmp, repeats);
    let _ = std::fs::remove_dir_all(&tmp);
    match out {
        Ok(()) => 0,
        Err(e) => fail(e),
    }
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let p = std::env::temp_dir().join(format!("duplab-bench-tui-{}", std::process::id()));
    std::fs::create_dir_all(&p)?;
    Ok(p)
}

fn build_and_measure(tmp: &std::path::Path, repeats: usize) -> Result<(), String> {
    let store = RunStore::new(tmp.join("runs"));
    let t0 = Instant::now();
    for i in 0..RUNS {
        let id = format!("20261118-{:06}-default-{i:06x}", 100000 + i);
        let rate = format!("duplication.rate={}", (i % 7) as f64 / 10.0);
        synthetic::finished_run(
            &store,
            &id,
            &[rate.as_str()],
            &duplab::data::FASHION_CLASSES,
            (i % 3) as u64,
            0.80 + (i % 10) as f64 / 100.0,
            Some(0.2),
        )
        .map_err(|e| e.to_string())?;
    }
    // The long run: created by this process, so the store reads it as running.
    let long = store
        .create_with_id("20261119-000000-default-10ng00")
        .map_err(|e| e.to_string())?;
    let cfg = store
        .open(&format!("20261118-{:06}-default-{:06x}", 100000, 0))
        .and_then(|r| r.require_config())
        .map_err(|e| e.to_string())?;
    long.write_config(&duplab::store::RunConfig {
        id: long.id.clone(),
        total_steps: LINES,
        ..cfg
    })
    .map_err(|e| e.to_string())?;
    synthetic::append_steps(&long, 0, LINES).map_err(|e| e.to_string())?;
    let size = std::fs::metadata(long.metrics_path())
        .map(|m| m.len())
        .unwrap_or(0);
    eprintln!(
        "# wrote {RUNS} synthetic runs and a running run with {LINES} metric lines ({:.0} MB) in {:.1} s",
        size as f64 / 1e6,
        t0.elapsed().as_secs_f64()
    );

    // The store worker's read of the whole store (what the runs screen asks for every 2 s).
    let mut read_ms = vec![];
    for _ in 0..repeats.max(3) {
        let t = Instant::now();
        let rows = duplab::report::run_rows(&store).map_err(|e| e.to_string())?;
        read_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if rows.len() != RUNS + 1 {
            return Err(format!("expected {} runs, read {}", RUNS + 1, rows.len()));
        }
    }

    let mut term = Terminal::new(TestBackend::new(160, 50)).map_err(|e| e.to_string())?;
    let mut frame = |lab: &Lab| {
        term.draw(|f| draw(f, &lab.app))
            .expect("drawing into memory cannot fail");
    };
    let mut lab = Lab::new(&store, Options::default(), None);

    // Open the long run: the first frame that shows its curves, then the whole file.
    let t = Instant::now();
    lab.handle(Msg::Open(long.id.clone()));
    let mut first_curve_ms = None;
    let mut keys_ms = vec![];
    let mut whole_ms = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    while whole_ms.is_none() && Instant::now() < deadline {
        // A key every 20 ms while the file streams in: key → update → frame.
        let k = Instant::now();
        lab.handle(key(KeyCode::Char('e')));
        lab.drain();
        frame(&lab);
        keys_ms.push(k.elapsed().as_secs_f64() * 1000.0);
        let points = lab.app.live_points(&long.id);
        if first_curve_ms.is_none() && points > 0 {
            first_curve_ms = Some(t.elapsed().as_secs_f64() * 1000.0);
        }
        if points >= LINES {
            whole_ms = Some(t.elapsed().as_secs_f64() * 1000.0);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let Some(whole_ms) = whole_ms else {
        return Err("the long run's metrics did not arrive within 120 s".into());
    };

    // With everything loaded: keys on the live screen, then on the runs screen (1,001 rows).
    let mut live_ms = vec![];
    for _ in 0..100 {
        let k = Instant::now();
        lab.handle(key(KeyCode::Char('e')));
        lab.drain();
        frame(&lab);
        live_ms.push(k.elapsed().as_secs_f64() * 1000.0);
    }
    lab.handle(key(KeyCode::Char('3')));
    // Let the worker answer the runs screen's read before measuring moves in the list.
    let t_rows = Instant::now();
    while lab.app.runs_listed() < RUNS + 1 && t_rows.elapsed() < Duration::from_secs(30) {
        if let Ok(m) = lab.rx.recv_timeout(Duration::from_millis(50)) {
            lab.handle(m);
        }
    }
    let mut runs_ms = vec![];
    for i in 0..100 {
        let k = Instant::now();
        lab.handle(key(if i % 2 == 0 {
            KeyCode::Down
        } else {
            KeyCode::Char('s')
        }));
        lab.drain();
        frame(&lab);
        runs_ms.push(k.elapsed().as_secs_f64() * 1000.0);
    }

    println!(
        "lab with {RUNS} runs and a running run of {LINES} metric lines ({:.0} MB), 160×50 frames into memory:",
        size as f64 / 1e6
    );
    let n = keys_ms.len();
    println!(
        "  key → frame while the long run streams in: median {:.2} ms, p99 {:.2} ms, max {:.2} ms ({n} keys; goal ≤ 50 ms)",
        median(&mut keys_ms.clone()),
        pct(&mut keys_ms.clone(), 0.99),
        pct(&mut keys_ms, 1.0)
    );
    println!(
        "  key → frame on the live screen, all loaded: median {:.2} ms, max {:.2} ms (100 keys)",
        median(&mut live_ms.clone()),
        pct(&mut live_ms, 1.0)
    );
    println!(
        "  key → frame on the runs screen ({} rows, move and sort): median {:.2} ms, max {:.2} ms (100 keys)",
        RUNS + 1,
        median(&mut runs_ms.clone()),
        pct(&mut runs_ms, 1.0)
    );
    println!(
        "  first frame with the long run's curves: {:.0} ms after opening it (goal ≤ 1,000 ms); whole file: {:.0} ms",
        first_curve_ms.unwrap_or(f64::NAN),
        whole_ms
    );
    println!(
        "  store worker, read {} runs: median {:.1} ms over {} reads (never on the UI thread)",
        RUNS + 1,
        median(&mut read_ms),
        read_ms.len()
    );
    Ok(())
}
