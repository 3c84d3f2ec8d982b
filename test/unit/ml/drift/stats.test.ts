// Reference values: Debian's python3-scipy 1.10.1 (numpy 1.24), computed with /usr/bin/python3 as noted
// beside each case. The deterministic samples below are rebuilt here with the same formulas.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  chiSquared,
  chiSquaredTwoSample,
  gammaQ,
  jensenShannon,
  kolmogorovSf,
  ksTwoSample,
  psi,
  wasserstein1,
  wassersteinNormed,
  wassersteinNormedHist,
} from '../../../../src/ml/drift/stats.ts';

const close = (a: number, b: number, eps: number, what = '') =>
  assert.ok(Math.abs(a - b) <= eps, `${what} ${a} != ${b} (±${eps})`);
const rel = (a: number, b: number, r: number, what = '') =>
  assert.ok(Math.abs(a - b) <= r * Math.abs(b), `${what} ${a} != ${b} (±${r * 100}%)`);

/** a_i = 2 sin(1.7 i) + sin(0.31 i); b_j = 2 sin(1.3 j + 0.5) + sin(0.37 j) + s (numpy: the same). */
function samples(n: number, m: number, s: number): [number[], number[]] {
  const a = Array.from({ length: n }, (_, i) => 2 * Math.sin(i * 1.7) + Math.sin(i * 0.31));
  const b = Array.from({ length: m }, (_, j) => 2 * Math.sin(j * 1.3 + 0.5) + Math.sin(j * 0.37) + s);
  return [a, b];
}

const A = [0.61, -1.2, 0.33, 2.05, -0.4, 0.9, 1.1, -0.75, 0.05, 1.6, -2.1, 0.48];
const B = [1.3, 0.2, 2.4, 1.9, 0.7, 3.1, 1.05, 0.66, 2.2, -0.1];

describe('Kolmogorov–Smirnov', () => {
  test('Kolmogorov tail equals scipy.special.kolmogorov', () => {
    const expected: [number, number][] = [
      [0.3, 0.9999906941986655],
      [0.5, 0.9639452436648751],
      [0.8, 0.5441424115741981],
      [1.0, 0.26999967167735456],
      [1.36, 0.049485876755377876],
      [2.0, 0.0006709252557796953],
    ];
    for (const [x, q] of expected) close(kolmogorovSf(x), q, 1e-13, `Q(${x})`);
    assert.equal(kolmogorovSf(0), 1);
  });

  test('statistic equals scipy ks_2samp, ties included', () => {
    // stats.ks_2samp(A, B).statistic
    close(ksTwoSample(A, B).statistic, 0.4666666666666666, 1e-12);
    // stats.ks_2samp([1,1,2,2,2,3,4,4,5,5], [2,3,3,3,4,5,5,6,6,7,7]).statistic
    close(
      ksTwoSample([1, 1, 2, 2, 2, 3, 4, 4, 5, 5], [2, 3, 3, 3, 4, 5, 5, 6, 6, 7, 7]).statistic,
      0.40909090909090906,
      1e-12,
    );
    assert.deepEqual(ksTwoSample([], [1, 2]), { statistic: 0, pValue: 1 });
  });

  test("p-value within 2% of scipy ks_2samp(mode='asymp') at monitoring sizes", () => {
    // scipy evaluates kstwo.sf(D, round(n·m/(n+m))); ours is Stephens' approximation of the same.
    const cases: [number, number, number, number, number][] = [
      [300, 200, 0.2, 0.08500000000000002, 0.3323117353880845],
      [300, 200, 0.6, 0.16499999999999998, 0.0025300448687975694],
      [500, 500, 0.15, 0.05399999999999994, 0.4440650591425567],
      [1000, 700, 0.3, 0.08299999999999996, 0.00644483787191574],
      [800, 400, 0, 0.020000000000000018, 0.9998638463461135],
    ];
    for (const [n, m, s, d, p] of cases) {
      const [a, b] = samples(n, m, s);
      const r = ksTwoSample(a, b);
      close(r.statistic, d, 1e-12, `D(${n},${m},${s})`);
      rel(r.pValue, p, 0.02, `p(${n},${m},${s})`);
    }
  });

  test('tiny samples: Stephens is cruder than scipy (documented), still the same order', () => {
    // scipy 0.16308806584362112 (exact at n_e rounded to 5); Stephens gives 0.1307.
    const p = ksTwoSample(A, B).pValue;
    assert.ok(p > 0.1 && p < 0.17, String(p));
  });
});

describe('chi-squared', () => {
  test('regularized upper incomplete gamma equals scipy.special.gammaincc', () => {
    const expected: [number, number, number][] = [
      [0.5, 0.1, 0.6547208460185768],
      [2.5, 1.0, 0.8491450360846096],
      [3, 7.5, 0.020256715056664387],
      [10, 3, 0.9988975118698845],
      [50, 70, 0.0051405024585059085],
      [0.5, 20, 2.5396285894708634e-10],
    ];
    for (const [a, x, q] of expected) rel(gammaQ(a, x), q, 1e-12, `Q(${a},${x})`);
  });

  test('goodness of fit equals scipy.stats.chisquare(obs, p·sum(obs))', () => {
    const r1 = chiSquared([18, 22, 30, 30], [0.25, 0.25, 0.25, 0.25]);
    close(r1.statistic, 4.32, 1e-12);
    rel(r1.pValue, 0.22891886433610517, 1e-12);
    assert.equal(r1.dof, 3);
    // Proportions are normalised, so reference counts work as well.
    const r2 = chiSquared([5, 40, 3, 12, 40], [10, 30, 10, 20, 30]);
    close(r2.statistic, 17.266666666666666, 1e-12);
    rel(r2.pValue, 0.001715408512736331, 1e-12);
  });

  test('homogeneity equals scipy.stats.chi2_contingency([ref, cur], correction=False)', () => {
    const r1 = chiSquaredTwoSample([250, 150, 100, 0], [230, 170, 95, 5]);
    close(r1.statistic, 7.211538461538462, 1e-12);
    rel(r1.pValue, 0.06545239722427856, 1e-12);
    assert.equal(r1.dof, 3);
    const r2 = chiSquaredTwoSample([40, 60], [55, 45]);
    close(r2.statistic, 4.511278195488721, 1e-12);
    rel(r2.pValue, 0.033672068856345896, 1e-12);
    // A bucket empty on both sides is left out (scipy refuses the table; its value without that column).
    const r3 = chiSquaredTwoSample([10, 0, 30, 5], [20, 0, 10, 15]);
    close(r3.statistic, 18.333333333333336, 1e-12);
    rel(r3.pValue, 0.0001044641438317051, 1e-12);
    assert.equal(r3.dof, 2);
  });

  test('a count where the reference had none is infinitely unlikely', () => {
    const r = chiSquared([10, 10, 1], [0.5, 0.5, 0]);
    assert.equal(r.statistic, Number.POSITIVE_INFINITY);
    assert.equal(r.pValue, 0);
  });
});

describe('distances', () => {
  test('Wasserstein-1 and its normed form equal scipy.stats.wasserstein_distance (/ np.std(ref))', () => {
    close(wasserstein1(A, B), 1.1185000000000003, 1e-12);
    close(wassersteinNormed(A, B), 0.9849489878556171, 1e-12);
    const [a, b] = samples(300, 200, 0.6);
    close(wassersteinNormed(a, b), 0.39139619278871013, 1e-12);
    const [c, d] = samples(1000, 700, 0.3);
    close(wassersteinNormed(c, d), 0.18800517903684316, 1e-12);
  });

  test('histogram Wasserstein: exact for uniform bins, close to the sample distance on fine bins', () => {
    // Uniform on [0, 1] against uniform on [1, 2]: W = 1 (hand-computed).
    close(wassersteinNormedHist([0, 1, 2], [0, 10, 0, 0], [0, 0, 10, 0], 1), 1, 1e-12);
    // Same histogram: 0.
    close(wassersteinNormedHist([0, 1, 2], [0, 5, 5, 0], [0, 1, 1, 0], 1), 0, 1e-12);
    // Half the mass moved one bin up: ∫|F_a − F_b| = 0.25 + 0.25 over the two bins (hand-computed).
    close(wassersteinNormedHist([0, 1, 2], [0, 10, 0, 0], [0, 5, 5, 0], 1), 0.5, 1e-12);
    const [a, b] = samples(1000, 700, 0.3);
    const lo = Math.min(...a);
    const hi = Math.max(...a);
    const edges = Array.from({ length: 201 }, (_, k) => lo + ((hi - lo) * k) / 200);
    const hist = (v: number[]) => {
      const c = new Array(202).fill(0);
      for (const x of v)
        c[x < lo ? 0 : x > hi ? 201 : Math.min(1 + Math.floor(((x - lo) / (hi - lo)) * 200), 200)]++;
      return c;
    };
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const std = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length);
    close(wassersteinNormedHist(edges, hist(a), hist(b), std), 0.18800517903684316, 0.01);
  });

  test('Jensen–Shannon distance equals scipy.spatial.distance.jensenshannon (natural log)', () => {
    close(jensenShannon([10, 20, 30, 40], [15, 25, 25, 35]), 0.07668497816148621, 1e-12);
    close(jensenShannon([1, 0, 0], [0, 0.5, 0.5]), 0.8325546111576977, 1e-12);
    close(jensenShannon([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]), 0, 1e-12);
  });

  test('PSI with an epsilon for empty buckets (numpy, same formula)', () => {
    // pr = max(r/Σr, 1e-4); pc = max(c/Σc, 1e-4); Σ (pc − pr)·ln(pc/pr)
    close(psi([50, 120, 200, 130, 0], [10, 100, 180, 150, 60]), 0.9960865622479795, 1e-12);
    close(psi([1, 2, 3], [2, 4, 6]), 0, 1e-15);
  });
});
