// The element-wise and row-wise operators of tenantml's graph heads and linear models, in float32
// semantics: every result is rounded to float32 where ONNX Runtime's CPU kernel rounds it. Rows are
// row-major [rows, cols] Float32Arrays. Pure: no I/O.

const f = Math.fround;

/** Float32 fused multiply-add a·b + c: a·b is exact in float64 (24 + 24 bits), so one rounding remains. */
const fma = (a: number, b: number, c: number): number => f(a * b + c);

// MLAS's logistic (ONNX Runtime's Sigmoid for float): Eigen's rational approximation on [-18, 18],
// evaluated with fused multiply-adds by the FMA3 kernel x86-64 CPUs dispatch to.
const LOWER = -18;
const UPPER = 18;
const A9 = f(4.37031012579801e-11);
const A7 = f(1.15627324459942e-7);
const A5 = f(6.08574864600143e-5);
const A3 = f(8.51377133304701e-3);
const A1 = f(2.48287947061529e-1);
const B10 = f(6.10247389755681e-13);
const B8 = f(5.76102136993427e-9);
const B6 = f(6.2910678501704e-6);
const B4 = f(1.70198817374094e-3);
const B2 = f(1.16817656904453e-1);
const B0 = f(9.9315192102318e-1);

/** ONNX Runtime's float Sigmoid, bit for bit on x86-64 with FMA3 (NaN stays NaN). */
export function sigmoid(x: number): number {
  const v = x < LOWER ? LOWER : Math.min(x, UPPER);
  const v2 = f(v * v);
  let p = fma(v2, A9, A7);
  p = fma(v2, p, A5);
  p = fma(v2, p, A3);
  p = fma(v2, p, A1);
  let q = fma(v2, B10, B8);
  q = fma(v2, q, B6);
  q = fma(v2, q, B4);
  q = fma(v2, q, B2);
  q = fma(v2, q, B0);
  p = f(v * p);
  const r = f(f(p / q) + 0.5);
  return Math.max(r, 0);
}

export function sigmoidRows(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = sigmoid(x[i]);
  return out;
}

// MLAS's softmax (ONNX Runtime's Softmax for float): exp(x − max) by its own range reduction and
// polynomial with fused multiply-adds, the exps summed in vector lanes, then each exp scaled by the
// float32 reciprocal of the sum.
const EXP_LOWER = f(-103.9720840454);
const ROUNDING_BIAS = 12582912; // 1.5 · 2^23
const LOG2_RECIPROCAL = f(Math.LOG2E);
const LOG2_HIGH = f(-6.93145752e-1);
const LOG2_LOW = f(-1.42860677e-6);
// 0x1.694000p-10, 0x1.125edcp-7, 0x1.555b5ap-5, 0x1.555450p-3, 0x1.fffff6p-2 (C hex floats).
const P0 = f(0x1694000 * 2 ** -34);
const P1 = f(0x1125edc * 2 ** -31);
const P2 = f(0x1555b5a * 2 ** -29);
const P3 = f(0x1555450 * 2 ** -27);
const P4 = f(0x1fffff6 * 2 ** -26);
const P56 = 1;
const bits = new DataView(new ArrayBuffer(4));

/** Float32 bits as a float (`bits` scratch view). */
function fromBits(i: number): number {
  bits.setInt32(0, i | 0);
  return bits.getFloat32(0);
}

// The exponent range the scale is split over (MlasExpConstants.MinimumExponent / MaximumExponent).
const MIN_EXPONENT = 0xc1000000 | 0;
const MAX_EXPONENT = 0x3f800000;

/**
 * e^(x + negMax) (x + negMax ≤ 0) the way ONNX Runtime 1.30's x86-64 FMA3 softmax computes it: MLAS's
 * range reduction and polynomial, clamped at -103.97 and the 2^m scale split in two factors (XNNPACK's
 * trick), so results below 2^-126 come out as subnormals rather than 0 — measured by the parity probe
 * against ONNX Runtime on rows whose logits span more than 87.
 */
function expShifted(x: number, negMax: number): number {
  let v = f(x + negMax);
  if (v < EXP_LOWER) v = EXP_LOWER;
  const biased = fma(v, LOG2_RECIPROCAL, ROUNDING_BIAS);
  const m = f(biased - ROUNDING_BIAS);
  v = fma(m, LOG2_HIGH, v);
  v = fma(m, LOG2_LOW, v);
  bits.setFloat32(0, biased);
  const shifted = (bits.getInt32(0) << 23) | 0;
  const normalExp = Math.max(Math.min(shifted, MAX_EXPONENT), MIN_EXPONENT);
  const overflow = fromBits(shifted - normalExp + MAX_EXPONENT);
  const normal = fromBits(normalExp + MAX_EXPONENT);
  let p = fma(P0, v, P1);
  p = fma(p, v, P2);
  p = fma(p, v, P3);
  p = fma(p, v, P4);
  p = fma(p, v, P56);
  p = fma(p, f(v * overflow), overflow);
  return f(p * normal);
}

const lanes = new Float32Array(8);

/**
 * Softmax of each row as MLAS's AVX2 kernels compute it: the exps accumulated in 8 lanes, reduced by
 * adjacent pairs ((0+1)+(2+3))+((4+5)+(6+7)). Bit for bit up to 16 columns (classes) on the x86-64
 * machines measured; with more, MLAS's kernels split the sum in an order not reproduced here, and a
 * probability may differ from ORT's in its last bit (relative 1e-7).
 */
export function softmaxRows(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    let max = x[o];
    for (let j = 1; j < cols; j++) if (x[o + j] > max) max = x[o + j];
    const negMax = -max;
    lanes.fill(0);
    for (let j = 0; j < cols; j++) {
      const e = expShifted(x[o + j], negMax);
      out[o + j] = e;
      lanes[j & 7] += e;
    }
    const sum = f(
      f(f(lanes[0] + lanes[1]) + f(lanes[2] + lanes[3])) + f(f(lanes[4] + lanes[5]) + f(lanes[6] + lanes[7])),
    );
    const scale = f(1 / sum);
    for (let j = 0; j < cols; j++) out[o + j] = f(out[o + j] * scale);
  }
  return out;
}

/** Index of each row's first largest value (ArgMax, select_last_index 0), as int64. */
export function argmaxRows(x: Float32Array, rows: number, cols: number): BigInt64Array {
  const out = new BigInt64Array(rows);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    let best = x[o];
    let at = 0;
    for (let j = 1; j < cols; j++) {
      if (best < x[o + j]) {
        best = x[o + j];
        at = j;
      }
    }
    out[r] = BigInt(at);
  }
  return out;
}

/** Features up to which MatMul is run natively: one k-block of MLAS's SGEMM (its sum order is known). */
export const GEMM_STRIDE_K = 256;

/** X [rows, k] · W [k, n] in float32, fused multiply-adds along k from 0 (k ≤ GEMM_STRIDE_K). */
export function matmul(x: Float32Array, rows: number, k: number, w: Float32Array, n: number): Float32Array {
  const out = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const xo = r * k;
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let i = 0; i < k; i++) acc = fma(x[xo + i], w[i * n + j], acc);
      out[r * n + j] = acc;
    }
  }
  return out;
}

/**
 * a ∘ b, element-wise in float32, for operands of `rows` × `cols` where either side may instead be one
 * value (`width` 1) or one row (`rowsA`/`rowsB` 1) broadcast over the other.
 */
export function binary(
  op: 'add' | 'sub',
  a: Float32Array,
  aRowwise: boolean,
  aWidth: number,
  b: Float32Array,
  bRowwise: boolean,
  bWidth: number,
  rows: number,
  cols: number,
): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const ao = aRowwise ? r * aWidth : 0;
    const bo = bRowwise ? r * bWidth : 0;
    for (let j = 0; j < cols; j++) {
      const x = a[ao + (aWidth === 1 ? 0 : j)];
      const y = b[bo + (bWidth === 1 ? 0 : j)];
      out[r * cols + j] = op === 'add' ? f(x + y) : f(x - y);
    }
  }
  return out;
}

/** Concatenation of row-major blocks along the columns. */
export function concatCols(parts: { data: Float32Array; cols: number }[], rows: number): Float32Array {
  let cols = 0;
  for (const p of parts) cols += p.cols;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let at = r * cols;
    for (const p of parts) {
      out.set(p.data.subarray(r * p.cols, (r + 1) * p.cols), at);
      at += p.cols;
    }
  }
  return out;
}
