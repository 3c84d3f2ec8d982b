// Limited-memory BFGS for smooth convex objectives, with a backtracking Armijo line search.
// All work buffers are allocated once; an iteration allocates nothing.

/** Writes the gradient at `x` into `grad` and returns the objective value. */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  /** Stop when the largest gradient component is at most this (default 1e-6). */
  gradTol?: number;
  /** Stop when the relative loss decrease of an iteration is at most this (default 1e-10). */
  lossTol?: number;
  maxIterations?: number;
  /** Pairs of history kept (default 10; 5 past a million parameters, where each pair costs 16 MB+). */
  memory?: number;
  onIteration?: (iteration: number, loss: number) => void;
}

export interface LbfgsResult {
  x: Float64Array;
  loss: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  /** Why it stopped: 'gradient', 'loss', 'max-iterations', 'line-search'. */
  reason: string;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (v > m) m = v;
  }
  return m;
}

export function lbfgs(f: Objective, x0: Float64Array, opts: LbfgsOptions = {}): LbfgsResult {
  const gradTol = opts.gradTol ?? 1e-6;
  const lossTol = opts.lossTol ?? 1e-10;
  const maxIter = opts.maxIterations ?? 1000;
  const n = x0.length;
  const m = opts.memory ?? (n > 1_000_000 ? 5 : 10);

  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  const d = new Float64Array(n);
  const S = Array.from({ length: m }, () => new Float64Array(n));
  const Y = Array.from({ length: m }, () => new Float64Array(n));
  const rho = new Float64Array(m);
  const alpha = new Float64Array(m);
  let head = 0; // next slot to write
  let count = 0;

  let loss = f(x, g);
  let evaluations = 1;
  let iter = 0;
  let reason = 'max-iterations';
  let converged = false;
  let flat = 0;

  while (iter < maxIter) {
    if (maxAbs(g) <= gradTol) {
      converged = true;
      reason = 'gradient';
      break;
    }
    // Two-loop recursion: d = -H g.
    for (let i = 0; i < n; i++) d[i] = -g[i];
    for (let k = 0; k < count; k++) {
      const j = (head - 1 - k + m) % m;
      alpha[j] = rho[j] * dot(S[j], d);
      const yj = Y[j];
      const a = alpha[j];
      for (let i = 0; i < n; i++) d[i] -= a * yj[i];
    }
    if (count > 0) {
      const j = (head - 1 + m) % m;
      const gamma = dot(S[j], Y[j]) / dot(Y[j], Y[j]);
      for (let i = 0; i < n; i++) d[i] *= gamma;
    }
    for (let k = count - 1; k >= 0; k--) {
      const j = (head - 1 - k + m) % m;
      const beta = rho[j] * dot(Y[j], d);
      const sj = S[j];
      const c = alpha[j] - beta;
      for (let i = 0; i < n; i++) d[i] += c * sj[i];
    }
    let gd = dot(g, d);
    if (!(gd < 0)) {
      // Not a descent direction (numerical trouble): forget the history and go downhill.
      count = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i];
      gd = -dot(g, g);
    }
    let step = count === 0 ? Math.min(1, 1 / Math.max(maxAbs(g), 1e-12)) : 1;
    let accepted = false;
    let lossNew = loss;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * d[i];
      lossNew = f(xNew, gNew);
      evaluations++;
      if (Number.isFinite(lossNew) && lossNew <= loss + 1e-4 * step * gd) {
        accepted = true;
        break;
      }
      // Quadratic interpolation of the step, kept within [0.1, 0.5] of the current one.
      const denom = 2 * (lossNew - loss - step * gd);
      let next = Number.isFinite(lossNew) && denom > 0 ? (-gd * step * step) / denom : step * 0.5;
      next = Math.min(Math.max(next, step * 0.1), step * 0.5);
      step = next;
    }
    iter++;
    if (!accepted) {
      reason = 'line-search';
      // At the floating-point floor of the loss the search cannot improve: that is convergence.
      converged = maxAbs(g) <= gradTol * 100;
      break;
    }
    const sj = S[head];
    const yj = Y[head];
    for (let i = 0; i < n; i++) {
      sj[i] = xNew[i] - x[i];
      yj[i] = gNew[i] - g[i];
    }
    const sy = dot(sj, yj);
    if (sy > 1e-12 * dot(yj, yj)) {
      rho[head] = 1 / sy;
      head = (head + 1) % m;
      if (count < m) count++;
    }
    const rel = (loss - lossNew) / Math.max(Math.abs(loss), Math.abs(lossNew), 1e-300);
    x.set(xNew);
    g.set(gNew);
    loss = lossNew;
    opts.onIteration?.(iter, loss);
    // Two flat iterations in a row: one can be a short step that a later one recovers from.
    flat = rel <= lossTol ? flat + 1 : 0;
    if (flat >= 2) {
      converged = true;
      reason = 'loss';
      break;
    }
  }
  return { x, loss, iterations: iter, evaluations, converged, reason };
}
