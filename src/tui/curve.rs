//! A training curve in bounded memory. A run of a million step records must not cost the lab a
//! million points on every frame: points are folded into at most `CAP` buckets (when full,
//! neighbours merge and each bucket covers twice as many steps). Every bucket keeps its lowest
//! and highest point, so a spike survives any amount of folding, and its mean, for smoothing.

/// Buckets kept at most; charts ask for far fewer points (two per column).
pub const CAP: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Bucket {
    min: (f64, f64),
    max: (f64, f64),
    sum: f64,
    n: usize,
    x_first: f64,
    x_last: f64,
}

impl Bucket {
    fn new(x: f64, y: f64) -> Bucket {
        Bucket {
            min: (x, y),
            max: (x, y),
            sum: y,
            n: 1,
            x_first: x,
            x_last: x,
        }
    }

    fn merge(&mut self, o: &Bucket) {
        if o.min.1 < self.min.1 {
            self.min = o.min;
        }
        if o.max.1 > self.max.1 {
            self.max = o.max;
        }
        self.sum += o.sum;
        self.n += o.n;
        self.x_last = o.x_last;
    }

    fn mean(&self) -> (f64, f64) {
        ((self.x_first + self.x_last) / 2.0, self.sum / self.n as f64)
    }

    /// The bucket as chart points: its low and its high, in step order.
    fn envelope(&self, out: &mut Vec<(f64, f64)>) {
        if self.min == self.max {
            out.push(self.min);
        } else if self.min.0 <= self.max.0 {
            out.extend([self.min, self.max]);
        } else {
            out.extend([self.max, self.min]);
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Curve {
    buckets: Vec<Bucket>,
    /// Points each full bucket covers (a power of two).
    per_bucket: usize,
    len: usize,
}

impl Curve {
    pub fn push(&mut self, x: f64, y: f64) {
        if !y.is_finite() {
            return;
        }
        self.len += 1;
        let per = self.per_bucket.max(1);
        match self.buckets.last_mut() {
            Some(b) if b.n < per => b.merge(&Bucket::new(x, y)),
            _ => self.buckets.push(Bucket::new(x, y)),
        }
        if self.buckets.len() > CAP {
            self.per_bucket = per * 2;
            let old = std::mem::take(&mut self.buckets);
            for pair in old.chunks(2) {
                let mut b = pair[0];
                if let Some(o) = pair.get(1) {
                    b.merge(o);
                }
                self.buckets.push(b);
            }
        }
    }

    /// Points pushed so far.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// At most about `max_points` points to draw: buckets merged into `max_points / 2` groups,
    /// each drawn as its low and its high, so spikes stay visible at any width.
    pub fn points(&self, max_points: usize) -> Vec<(f64, f64)> {
        let groups = (max_points / 2).max(1);
        let per = self.buckets.len().div_ceil(groups).max(1);
        let mut out = Vec::with_capacity(max_points.min(2 * self.buckets.len()));
        for chunk in self.buckets.chunks(per) {
            let mut b = chunk[0];
            for o in &chunk[1..] {
                b.merge(o);
            }
            b.envelope(&mut out);
        }
        out
    }

    /// Bucket means (x at the bucket's middle): what smoothing works on.
    pub fn means(&self) -> Vec<(f64, f64)> {
        self.buckets.iter().map(Bucket::mean).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_curve_is_drawn_point_for_point() {
        let mut c = Curve::default();
        for i in 0..10 {
            c.push(i as f64, (i * i) as f64);
        }
        let p = c.points(100);
        assert_eq!(p.len(), 10);
        assert_eq!(p[3], (3.0, 9.0));
    }

    #[test]
    fn a_million_points_stay_bounded_and_keep_their_spike() {
        let mut c = Curve::default();
        for i in 0..1_000_000 {
            let y = if i == 654_321 {
                50.0
            } else {
                1.0 + (i % 7) as f64 * 0.01
            };
            c.push(i as f64, y);
        }
        assert_eq!(c.len(), 1_000_000);
        assert!(c.buckets.len() <= CAP);
        let p = c.points(240);
        assert!(p.len() <= 240, "{}", p.len());
        assert!(
            p.iter().any(|&(x, y)| y == 50.0 && x == 654_321.0),
            "spike lost"
        );
        // x stays in step order: the chart draws lines between neighbours.
        assert!(p.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn means_average_the_points_of_each_bucket() {
        let mut c = Curve::default();
        for i in 0..(CAP * 2) {
            c.push(i as f64, if i % 2 == 0 { 0.0 } else { 2.0 });
        }
        assert!(c.means().iter().all(|&(_, m)| (m - 1.0).abs() < 1e-12));
    }

    #[test]
    fn non_finite_values_are_skipped() {
        let mut c = Curve::default();
        c.push(0.0, f64::NAN);
        c.push(1.0, 2.0);
        assert_eq!(c.points(10), vec![(1.0, 2.0)]);
    }
}
