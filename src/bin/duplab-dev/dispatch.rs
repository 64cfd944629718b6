//! `duplab-dev dispatch`: what burn's dynamic device dispatch costs per op, before/after in one
//! process. The same ops run twice, taking turns: through burn's `Tensor` API (every op matched
//! on the device kind by `burn-dispatch`, as duplab's models run) and straight on the `Flex`
//! backend's primitives (no dispatch: the statically typed call a generic model would compile to).
//!
//! Cases: the small CNN's forward pass at batch 128 (the kernels dominate) and batch 1 (the
//! per-op cost does), and a chain of 100 adds on 16 floats (nothing but per-op cost). The autodiff
//! layer is left out on both sides: duplab's dispatch wraps `Autodiff<Flex>` and a raw
//! `Autodiff<Flex>` would be compiled here at this crate's lower opt-level, which would race
//! the compiler settings rather than the dispatch.

use burn::backend::Flex;
use burn::backend::flex::{FlexDevice, FlexTensor};
use burn::backend::ops::{ActivationOps, FloatTensorOps, ModuleOps};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::module::{conv2d, linear, max_pool2d};
use burn::tensor::ops::{ConvOptions, MaxPoolOptions};
use duplab::cli::bench::median_range;
use std::time::Instant;

/// The small CNN's shapes (the model's own `CnnWidth::dims`), 28×28 grey input, 10 classes.
const DIMS: (usize, usize, usize) = duplab::nn::CnnWidth::Small.dims();
const SHAPES: [[usize; 4]; 2] = [[DIMS.0, 1, 3, 3], [DIMS.1, DIMS.0, 3, 3]];
const FLAT: usize = DIMS.1 * 7 * 7;
const HIDDEN: usize = DIMS.2;
const CLASSES: usize = 10;

/// The weights' and images' scale: small values, as an initialised model's.
const SCALE: f32 = 0.2;

fn data(shape: &[usize], seed: u64) -> TensorData {
    crate::seeded::data(shape, seed, SCALE)
}

/// The weights and one batch, as plain data both sides load.
struct Inputs {
    x: TensorData,
    conv: [(TensorData, TensorData); 2],
    fc: [(TensorData, TensorData); 2],
}

impl Inputs {
    fn new(batch: usize) -> Inputs {
        Inputs {
            x: data(&[batch, 1, 28, 28], 1),
            conv: [
                (data(&SHAPES[0], 2), data(&[SHAPES[0][0]], 3)),
                (data(&SHAPES[1], 4), data(&[SHAPES[1][0]], 5)),
            ],
            fc: [
                (data(&[FLAT, HIDDEN], 6), data(&[HIDDEN], 7)),
                (data(&[HIDDEN, CLASSES], 8), data(&[CLASSES], 9)),
            ],
        }
    }
}

fn conv_options() -> ConvOptions<2> {
    ConvOptions::new([1, 1], [1, 1], [1, 1], 1)
}

/// Through burn's `Tensor` API: every op goes through `burn-dispatch`.
struct Dispatched {
    x: Tensor<4>,
    conv: Vec<(Tensor<4>, Tensor<1>)>,
    fc: Vec<(Tensor<2>, Tensor<1>)>,
}

impl Dispatched {
    fn new(i: &Inputs, device: &Device) -> Dispatched {
        fn pair<const D: usize>(
            (w, b): &(TensorData, TensorData),
            device: &Device,
        ) -> (Tensor<D>, Tensor<1>) {
            (
                Tensor::from_data(w.clone(), device),
                Tensor::from_data(b.clone(), device),
            )
        }
        Dispatched {
            x: Tensor::from_data(i.x.clone(), device),
            conv: i.conv.iter().map(|p| pair(p, device)).collect(),
            fc: i.fc.iter().map(|p| pair(p, device)).collect(),
        }
    }

    fn forward(&self) -> Tensor<2> {
        let mut x = self.x.clone();
        for (w, b) in &self.conv {
            let y = conv2d(x, w.clone(), Some(b.clone()), conv_options());
            x = relu(max_pool2d(y, MaxPoolOptions::new([2, 2])));
        }
        let x = x.flatten::<2>(1, 3);
        let x = relu(linear(x, self.fc[0].0.clone(), Some(self.fc[0].1.clone())));
        linear(x, self.fc[1].0.clone(), Some(self.fc[1].1.clone()))
    }
}

/// Straight on the `Flex` backend's primitives: no dispatch.
struct Direct {
    batch: usize,
    x: FlexTensor,
    conv: Vec<(FlexTensor, FlexTensor)>,
    fc: Vec<(FlexTensor, FlexTensor)>,
}

impl Direct {
    fn new(i: &Inputs, device: &FlexDevice) -> Direct {
        let load = |d: &TensorData| Flex::float_from_data(d.clone(), device);
        Direct {
            batch: i.x.shape()[0],
            x: load(&i.x),
            conv: i.conv.iter().map(|(w, b)| (load(w), load(b))).collect(),
            fc: i.fc.iter().map(|(w, b)| (load(w), load(b))).collect(),
        }
    }

    fn forward(&self) -> FlexTensor {
        let mut x = self.x.clone();
        for (w, b) in &self.conv {
            let y = Flex::conv2d(x, w.clone(), Some(b.clone()), conv_options());
            x = Flex::relu(Flex::max_pool2d(y, [2, 2], [2, 2], [0, 0], [1, 1], false));
        }
        let x = Flex::float_reshape(x, Shape::new([self.batch, FLAT]));
        let x = Flex::relu(Flex::linear(
            x,
            self.fc[0].0.clone(),
            Some(self.fc[0].1.clone()),
        ));
        Flex::linear(x, self.fc[1].0.clone(), Some(self.fc[1].1.clone()))
    }
}

/// Both sides must compute the same numbers, or the race means nothing.
fn same(a: TensorData, b: TensorData) -> Result<(), String> {
    let (a, b) = (a.try_into_vec::<f32>(), b.try_into_vec::<f32>());
    let (Ok(a), Ok(b)) = (a, b) else {
        return Err("the two sides did not give float32".into());
    };
    if a.len() != b.len() || a.iter().zip(&b).any(|(x, y)| x.to_bits() != y.to_bits()) {
        return Err("the dispatched and the direct results differ: a bug, please report it".into());
    }
    Ok(())
}

/// Seconds per call of `f`, over `calls` calls.
fn time<T>(calls: usize, mut f: impl FnMut() -> T) -> f64 {
    let t = Instant::now();
    for _ in 0..calls {
        std::hint::black_box(f());
    }
    t.elapsed().as_secs_f64() / calls as f64
}

/// One case's figures: per-call seconds of both sides, one entry per round.
struct Case {
    name: String,
    unit: &'static str,
    per_call: f64,
    dispatched: Vec<f64>,
    direct: Vec<f64>,
}

impl Case {
    /// A case with no rounds yet; `per_call` units (images, adds) in each timed call.
    fn new(name: String, unit: &'static str, per_call: usize) -> Case {
        Case {
            name,
            unit,
            per_call: per_call as f64,
            dispatched: vec![],
            direct: vec![],
        }
    }

    fn print(&mut self) {
        let rate = |s: f64| self.per_call / s;
        // Seconds a call: the slowest round is the lowest rate.
        let (d, d_fast, d_slow) = median_range(&mut self.dispatched);
        let (r, r_fast, r_slow) = median_range(&mut self.direct);
        let (d_lo, d_hi, r_lo, r_hi) = (rate(d_slow), rate(d_fast), rate(r_slow), rate(r_fast));
        println!(
            "{:<40} {:>9.0} ({:.0}–{:.0})  {:>9.0} ({:.0}–{:.0})  {:>6.3}×  {:>+9.0} ns a call",
            format!("{} ({})", self.name, self.unit),
            rate(d),
            d_lo,
            d_hi,
            rate(r),
            r_lo,
            r_hi,
            d / r,
            (d - r) * 1e9,
        );
    }
}

/// The race: `rounds` rounds, each timing every case on both sides in turn.
pub fn run(rounds: usize) -> i32 {
    let rounds = rounds.max(1);
    let device = duplab::backend::cpu_device();
    let flex = FlexDevice;
    let mut cases: Vec<(Case, Box<dyn FnMut() -> f64>, Box<dyn FnMut() -> f64>)> = vec![];
    for (batch, calls) in [(128usize, 20usize), (1, 2000)] {
        let inputs = Inputs::new(batch);
        let d = Dispatched::new(&inputs, &device);
        let r = Direct::new(&inputs, &flex);
        if let Err(e) = same(d.forward().into_data(), r.forward().into_data()) {
            return duplab::cli::fail(e);
        }
        cases.push((
            Case::new(
                format!("small CNN forward, batch {batch}"),
                "images/s",
                batch,
            ),
            Box::new(move || time(calls, || d.forward())),
            Box::new(move || time(calls, || r.forward())),
        ));
    }
    // Nothing but per-op cost: 100 adds on 16 floats.
    const ADDS: usize = 100;
    let (a, b) = (data(&[16], 10), data(&[16], 11));
    let (ta, tb) = (
        Tensor::<1>::from_data(a.clone(), &device),
        Tensor::<1>::from_data(b.clone(), &device),
    );
    let (ra, rb) = (
        Flex::float_from_data(a, &flex),
        Flex::float_from_data(b, &flex),
    );
    let chain_t = |ta: &Tensor<1>, tb: &Tensor<1>| {
        let mut x = ta.clone();
        for _ in 0..ADDS {
            x = x + tb.clone();
        }
        x
    };
    let chain_r = |ra: &FlexTensor, rb: &FlexTensor| {
        let mut x = ra.clone();
        for _ in 0..ADDS {
            x = Flex::float_add(x, rb.clone());
        }
        x
    };
    if let Err(e) = same(chain_t(&ta, &tb).into_data(), chain_r(&ra, &rb).into_data()) {
        return duplab::cli::fail(e);
    }
    cases.push((
        Case::new(format!("{ADDS} adds on 16 floats"), "adds/s", ADDS),
        Box::new(move || time(200, || chain_t(&ta, &tb))),
        Box::new(move || time(200, || chain_r(&ra, &rb))),
    ));
    // Warm both sides once (first-touch of buffers, rayon's threads) before the timed rounds.
    for (_, d, r) in cases.iter_mut() {
        d();
        r();
    }
    // Which side goes first alternates by round, so neither always inherits the other's
    // freed buffers and warm caches.
    for round in 0..rounds {
        for (case, d, r) in cases.iter_mut() {
            if round % 2 == 0 {
                case.dispatched.push(d());
                case.direct.push(r());
            } else {
                case.direct.push(r());
                case.dispatched.push(d());
            }
        }
    }
    println!(
        "burn's dispatch against direct Flex calls, {rounds} rounds taking turns (the first side alternating), median (min–max);"
    );
    println!("ratio = dispatched time / direct time (above 1: what the dispatch costs)");
    println!(
        "{:<40} {:>25}  {:>25}  {:>7}  {:>16}",
        "case", "dispatched", "direct", "", "dispatch cost"
    );
    for (case, _, _) in cases.iter_mut() {
        case.print();
    }
    println!("(a call: one forward pass, or one chain of {ADDS} adds)");
    0
}
