// The statistics behind drift detection: two-sample tests (Kolmogorov–Smirnov, chi-squared) and
// distances (Wasserstein-1 normed, Jensen–Shannon, PSI). Pure functions over plain numbers; the special
// functions they need (Kolmogorov tail, regularized incomplete gamma) are written here, not imported.

export interface TestResult {
  statistic: number;
  pValue: number;
}

// ---- Kolmogorov–Smirnov ---------------------------------------------------------------------------

/**
 * Survival function of the Kolmogorov distribution, Q(λ) = P(K > λ). Two series, each fast where the
 * other is slow: the alternating one converges in a few terms for λ ≥ 1, the Jacobi-theta one below.
 */
export function kolmogorovSf(lambda: number): number {
  if (!(lambda > 0)) return 1;
  if (lambda < 1) {
    // 1 − Q(λ) = √(2π)/λ · Σ_{k≥1} exp(−(2k−1)²π²/(8λ²))
    const c = -(Math.PI * Math.PI) / (8 * lambda * lambda);
    let sum = 0;
    for (let k = 1; k <= 20; k++) {
      const term = Math.exp(c * (2 * k - 1) * (2 * k - 1));
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    return clamp01(1 - (Math.sqrt(2 * Math.PI) / lambda) * sum);
  }
  let sum = 0;
  let sign = 1;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    sum += sign * term;
    if (term < 1e-17) break;
    sign = -sign;
  }
  return clamp01(2 * sum);
}

/**
 * Two-sample Kolmogorov–Smirnov test, two-sided. The p-value is the Kolmogorov tail at
 * (√n_e + 0.12 + 0.11/√n_e)·D with n_e = n·m/(n+m) (Stephens' small-sample correction, as in Numerical
 * Recipes). scipy ≥ 1.5's `ks_2samp(mode='asymp')` evaluates the exact one-sample distribution at
 * round(n_e) instead; Stephens' formula was made to approximate exactly that, and the two agree within
 * about 2% relative over the sizes we use. NaNs are ignored; an empty side gives D = 0, p = 1.
 */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>, sorted = false): TestResult {
  const x = sorted ? a : sortedFinite(a);
  const y = sorted ? b : sortedFinite(b);
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) return { statistic: 0, pValue: 1 };
  let i = 0;
  let j = 0;
  let d = 0;
  // Walk both sorted samples; ties advance together so that D is measured between distinct values.
  while (i < n && j < m) {
    const v = Math.min(x[i], y[j]);
    while (i < n && x[i] === v) i++;
    while (j < m && y[j] === v) j++;
    const gap = Math.abs(i / n - j / m);
    if (gap > d) d = gap;
  }
  const en = (n * m) / (n + m);
  const s = Math.sqrt(en);
  return { statistic: d, pValue: kolmogorovSf((s + 0.12 + 0.11 / s) * d) };
}

// ---- chi-squared --------------------------------------------------------------------------------

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~15 significant digits). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let s = c[0];
  for (let k = 1; k < 9; k++) s += c[k] / (z + k);
  const t = z + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/**
 * Regularized upper incomplete gamma Q(a, x) = Γ(a, x)/Γ(a). Below x < a + 1 the series for P converges
 * fast (Q = 1 − P); above it the continued fraction for Q does (modified Lentz).
 */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0)) return Number.NaN;
  if (x <= 0) return 1;
  if (!Number.isFinite(x)) return 0;
  const lnPre = -x + a * Math.log(x) - lnGamma(a);
  if (x < a + 1) {
    let ap = a;
    let del = 1 / a;
    let sum = del;
    for (let n = 0; n < 1000; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-16) break;
    }
    return clamp01(1 - sum * Math.exp(lnPre));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return clamp01(Math.exp(lnPre) * h);
}

/**
 * Pearson's chi-squared goodness of fit of observed counts against expected proportions (normalised
 * here), k − 1 degrees of freedom over the buckets whose expected proportion is positive. A count in a
 * bucket the reference never had makes the statistic infinite (p = 0), as scipy's `chisquare` does:
 * callers that want to tolerate a few unseen values smooth the proportions first.
 */
export function chiSquared(
  observed: ArrayLike<number>,
  expected: ArrayLike<number>,
): TestResult & { dof: number } {
  if (observed.length !== expected.length) throw new RangeError('observed and expected differ in length');
  let total = 0;
  let pTotal = 0;
  for (let i = 0; i < observed.length; i++) {
    total += observed[i];
    pTotal += expected[i];
  }
  if (total === 0 || pTotal <= 0) return { statistic: 0, pValue: 1, dof: 0 };
  let stat = 0;
  let k = 0;
  for (let i = 0; i < observed.length; i++) {
    const e = (expected[i] / pTotal) * total;
    if (e > 0) {
      const d = observed[i] - e;
      stat += (d * d) / e;
      k++;
    } else if (observed[i] > 0) {
      stat = Number.POSITIVE_INFINITY;
    }
  }
  const dof = Math.max(k - 1, 0);
  if (dof === 0) return { statistic: stat, pValue: stat === Number.POSITIVE_INFINITY ? 0 : 1, dof };
  return { statistic: stat, pValue: gammaQ(dof / 2, stat / 2), dof };
}

/**
 * Chi-squared test of homogeneity between two samples' counts over the same buckets (a 2 × k contingency
 * table without continuity correction, like scipy's `chi2_contingency(…, correction=False)`); buckets
 * empty on both sides are left out. Unlike goodness of fit, it allows for the reference's own sampling
 * noise, so a small reference does not inflate the statistic.
 */
export function chiSquaredTwoSample(
  ref: ArrayLike<number>,
  cur: ArrayLike<number>,
): TestResult & { dof: number } {
  if (ref.length !== cur.length) throw new RangeError('ref and cur differ in length');
  const nr = sum(ref);
  const nc = sum(cur);
  if (nr <= 0 || nc <= 0) return { statistic: 0, pValue: 1, dof: 0 };
  const total = nr + nc;
  let stat = 0;
  let k = 0;
  for (let i = 0; i < ref.length; i++) {
    const col = ref[i] + cur[i];
    if (col <= 0) continue;
    k++;
    const er = (col * nr) / total;
    const ec = (col * nc) / total;
    stat += ((ref[i] - er) * (ref[i] - er)) / er + ((cur[i] - ec) * (cur[i] - ec)) / ec;
  }
  const dof = Math.max(k - 1, 0);
  return { statistic: stat, pValue: dof === 0 ? 1 : gammaQ(dof / 2, stat / 2), dof };
}

// ---- Wasserstein --------------------------------------------------------------------------------

/** Population standard deviation (ddof 0, like numpy's default, which Evidently norms by). */
export function stdOf(v: ArrayLike<number>): number {
  const n = v.length;
  if (n === 0) return 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += v[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (v[i] - mean) * (v[i] - mean);
  return Math.sqrt(ss / n);
}

/** Evidently floors the norm at 0.001 so that a constant reference does not divide by zero. */
const MIN_NORM = 0.001;

/** Wasserstein-1 between two samples: ∫|F_a − F_b| dx over the merged sorted values. */
export function wasserstein1(a: ArrayLike<number>, b: ArrayLike<number>, sorted = false): number {
  const x = sorted ? a : sortedFinite(a);
  const y = sorted ? b : sortedFinite(b);
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) return 0;
  let i = 0;
  let j = 0;
  let prev = Math.min(x[0], y[0]);
  let w = 0;
  while (i < n || j < m) {
    const v = j >= m || (i < n && x[i] <= y[j]) ? x[i] : y[j];
    w += Math.abs(i / n - j / m) * (v - prev);
    prev = v;
    while (i < n && x[i] === v) i++;
    while (j < m && y[j] === v) j++;
  }
  return w;
}

/**
 * Wasserstein-1 distance from the reference sample to the current one, divided by the reference's
 * standard deviation (given, e.g. from all reference rows, or computed from `ref`), as Evidently's
 * `wasserstein` stattest. Drift is usually called at ≥ 0.1.
 */
export function wassersteinNormed(
  ref: ArrayLike<number>,
  cur: ArrayLike<number>,
  refStd?: number,
  sorted = false,
): number {
  const norm = Math.max(refStd ?? stdOf(ref), MIN_NORM);
  return wasserstein1(ref, cur, sorted) / norm;
}

/**
 * The same distance from histograms on shared bin edges, for when samples are not at hand: mass is
 * spread uniformly inside each bin, so the CDFs are piecewise linear and the integral of their gap is
 * exact for that model. `counts` have edges.length + 1 entries: a lower tail, the edges.length − 1
 * bins, an upper tail; tail mass is put on the outermost edge (it has no known extent), which can only
 * understate the distance.
 */
export function wassersteinNormedHist(
  edges: ArrayLike<number>,
  refCounts: ArrayLike<number>,
  curCounts: ArrayLike<number>,
  refStd: number,
): number {
  const nb = edges.length - 1;
  if (refCounts.length !== nb + 2 || curCounts.length !== nb + 2) {
    throw new RangeError('counts must have a lower tail, one entry per bin and an upper tail');
  }
  const ta = sum(refCounts);
  const tb = sum(curCounts);
  if (ta === 0 || tb === 0) return 0;
  let fa = refCounts[0] / ta;
  let fb = curCounts[0] / tb;
  let w = 0;
  for (let k = 0; k < nb; k++) {
    const width = edges[k + 1] - edges[k];
    const ga = fa + refCounts[k + 1] / ta;
    const gb = fb + curCounts[k + 1] / tb;
    const d0 = fa - fb;
    const d1 = ga - gb;
    // ∫ over the bin of |linear from d0 to d1|: a trapezoid, or two triangles when the sign changes.
    if (d0 * d1 >= 0) w += (width * (Math.abs(d0) + Math.abs(d1))) / 2;
    else w += (width * (d0 * d0 + d1 * d1)) / (2 * (Math.abs(d0) + Math.abs(d1)));
    fa = ga;
    fb = gb;
  }
  return w / Math.max(refStd, MIN_NORM);
}

// ---- distribution distances ----------------------------------------------------------------------

/**
 * Jensen–Shannon distance (the square root of the divergence, natural log), like
 * `scipy.spatial.distance.jensenshannon(p, q)` with its defaults: both inputs are normalised first, so
 * counts do. Between 0 and √ln 2 ≈ 0.833; Evidently calls drift at ≥ 0.1.
 */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length) throw new RangeError('p and q differ in length');
  const sp = sum(p);
  const sq = sum(q);
  if (sp <= 0 || sq <= 0) return 0;
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] / sp;
    const b = q[i] / sq;
    const m = (a + b) / 2;
    if (a > 0) js += a * Math.log(a / m);
    if (b > 0) js += b * Math.log(b / m);
  }
  return Math.sqrt(Math.max(js / 2, 0));
}

/** Evidently's floor for an empty bucket's share in PSI. */
export const PSI_EPSILON = 1e-4;

/**
 * Population stability index Σ (c − r)·ln(c/r) over bucket shares (normalised here, so counts do); an
 * empty bucket's share is floored at `epsilon`. Rule of thumb: < 0.1 stable, ≥ 0.25 a major shift.
 */
export function psi(ref: ArrayLike<number>, cur: ArrayLike<number>, epsilon = PSI_EPSILON): number {
  if (ref.length !== cur.length) throw new RangeError('ref and cur differ in length');
  const sr = sum(ref);
  const sc = sum(cur);
  if (sr <= 0 || sc <= 0) return 0;
  let out = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = Math.max(ref[i] / sr, epsilon);
    const c = Math.max(cur[i] / sc, epsilon);
    out += (c - r) * Math.log(c / r);
  }
  return out;
}

// ---- helpers --------------------------------------------------------------------------------------

function sum(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s;
}

function sortedFinite(v: ArrayLike<number>): Float64Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) if (Number.isFinite(v[i])) n++;
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < v.length; i++) if (Number.isFinite(v[i])) out[k++] = v[i];
  return out.sort();
}

function clamp01(x: number): number {
  return Math.max(0, Math.min(x, 1));
}
