"""Reference values for duplab's exact power of the paired t-test (crates/duplab-core/src/report/
power.rs), from SciPy's independent implementation of the noncentral t distribution.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install scipy
    /tmp/venv/bin/python python/power_reference.py > crates/duplab-core/src/report/fixtures/power_reference.csv

Rows: `cdf,df,nc,t,value` (the noncentral t CDF), `power,df,alpha,delta,value` (two-sided power
at standardised effect delta = true mean / standard error), `mde,n,alpha,power,value` (the
standardised effect that reaches the power).
"""

from scipy import optimize, stats


def power(df, alpha, delta):
    tc = stats.t.ppf(1 - alpha / 2, df)
    # The lower tail through symmetry, F(-t; df, d) = 1 - F(t; df, -d): SciPy returns NaN for it
    # directly when d is large.
    return stats.nct.sf(tc, df, delta) + stats.nct.sf(tc, df, -delta)


def mde(n, alpha, target):
    df = n - 1
    return optimize.brentq(lambda d: power(df, alpha, d) - target, 1e-9, 1000.0, xtol=1e-11)


print("kind,a,b,c,value")
for df in [1, 2, 3, 4, 9, 29]:
    for nc in [-2.0, 0.0, 0.5, 1.5, 4.0, 10.0]:
        for t in [-3.0, -0.5, 0.0, 1.0, 2.5, 8.0]:
            # Below zero through symmetry (SciPy's direct value is NaN far in the tail).
            v = stats.nct.cdf(t, df, nc) if t >= 0 else stats.nct.sf(-t, df, -nc)
            print(f"cdf,{df},{nc},{t},{v:.15e}")
for df in [2, 4, 9]:
    for alpha in [0.05, 0.0025]:
        for delta in [1.0, 3.0, 6.0, 12.0]:
            print(f"power,{df},{alpha},{delta},{power(df, alpha, delta):.15e}")
for n in [3, 5, 10]:
    for alpha in [0.05, 0.01, 0.05 / 20, 0.05 / 23]:
        print(f"mde,{n},{alpha!r},0.8,{mde(n, alpha, 0.8):.15e}")
# Two seeds (1 df) and large families: effects of tens to hundreds of standard errors.
for n, alpha in [(2, 0.05), (2, 0.05 / 3), (2, 0.05 / 22), (3, 0.05 / 60)]:
    print(f"mde,{n},{alpha!r},0.8,{mde(n, alpha, 0.8):.15e}")
