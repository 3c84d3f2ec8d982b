// Grows one regression tree on gradients: depth-wise (level by level) or loss-guided (best leaf
// first). Only the smaller child's histogram is built; the larger one is the parent's minus it.
// All scratch lives in a GrowWorkspace reused across trees, so a tree allocates only its nodes.
import type { Tree } from '../types.ts';
import { type BinnedMatrix, thresholdOf } from './binning.ts';
import { histogramSize, subtractHistogram } from './histogram.ts';
import type { GbdtParams } from './params.ts';
import { type HistogramPool, inlineHistogramPool } from './pool.ts';
import { emptySplit, findBestSplit, type SplitInfo } from './split.ts';

export interface GrowWorkspace {
  binned: BinnedMatrix;
  /** Row indices of the tree's sample, permuted in place so each node owns a contiguous range. */
  rows: Int32Array;
  scratch: Int32Array;
  gOrd: Float64Array;
  hOrd: Float64Array;
  pool: Float64Array[];
  /** Builds the histograms; rows and the histograms are allocated from it. */
  histograms: HistogramPool;
}

export function createWorkspace(
  binned: BinnedMatrix,
  histograms: HistogramPool = inlineHistogramPool,
): GrowWorkspace {
  const n = binned.rows;
  return {
    binned,
    rows: new Int32Array(histograms.allocate(4 * n)),
    scratch: new Int32Array(n),
    gOrd: new Float64Array(n),
    hOrd: new Float64Array(n),
    pool: [],
    histograms,
  };
}

function takeHist(ws: GrowWorkspace): Float64Array {
  const pooled = ws.pool.pop();
  if (pooled) return pooled;
  const size = histogramSize(ws.binned);
  return new Float64Array(ws.histograms.allocate(8 * size));
}

interface Candidate {
  node: number;
  start: number;
  end: number;
  depth: number;
  hist: Float64Array;
  split: SplitInfo;
}

/** A grown tree, with the bin of each split for routing binned rows (out-of-sample rows). */
export interface GrownTree {
  tree: Tree;
  splitBin: Int32Array;
  /** Leaf node of each position of ws.rows[0..count), as ranges: leafStart/leafEnd per node (-1 if internal). */
  leafStart: Int32Array;
  leafEnd: Int32Array;
}

/** Moves rows[start..end) going left to the front, stably, and returns the boundary. */
function partition(
  ws: GrowWorkspace,
  start: number,
  end: number,
  feature: number,
  bin: number,
  missingLeft: boolean,
): number {
  const { rows, scratch, binned } = ws;
  const bins = binned.bins;
  const base = feature * binned.rows;
  const missing = binned.nBins[feature];
  let l = start;
  let r = 0;
  for (let i = start; i < end; i++) {
    const row = rows[i];
    const b = bins[base + row];
    if (b === missing ? missingLeft : b <= bin) rows[l++] = row;
    else scratch[r++] = row;
  }
  rows.set(scratch.subarray(0, r), l);
  return l;
}

/**
 * Grows a tree over ws.rows[0..count) (filled by the caller) with gradients g, h (indexed by row),
 * restricted to `features`. Leaf values already include the learning rate and are float32-exact.
 */
export function growTree(
  ws: GrowWorkspace,
  count: number,
  g: Float64Array,
  h: Float64Array,
  features: Int32Array,
  p: GbdtParams,
  output: number,
): GrownTree {
  const { binned } = ws;
  const minChild = Math.max(p.minChildWeight, 1e-6);
  const maxDepth = p.maxDepth > 0 ? p.maxDepth : Number.POSITIVE_INFINITY;
  const maxLeaves = p.growPolicy === 'lossguide' ? p.maxLeaves : Number.POSITIVE_INFINITY;

  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const missingLeft: number[] = [];
  const splitBin: number[] = [];
  const G: number[] = [];
  const H: number[] = [];
  const nStart: number[] = [];
  const nEnd: number[] = [];
  const newNode = (start: number, end: number, gs: number, hs: number): number => {
    feature.push(-1);
    threshold.push(0);
    left.push(-1);
    right.push(-1);
    missingLeft.push(0);
    splitBin.push(-1);
    G.push(gs);
    H.push(hs);
    nStart.push(start);
    nEnd.push(end);
    return feature.length - 1;
  };
  const canSplit = (start: number, end: number, depth: number, hs: number): boolean =>
    depth < maxDepth && end - start >= 2 && hs >= 2 * minChild;
  const rows = ws.rows;
  const hp = ws.histograms;
  const build = (hist: Float64Array, start: number, end: number): void =>
    hp.build(hist, binned, features, rows, start, end, g, h, ws.gOrd, ws.hOrd);

  let gs = 0;
  let hs = 0;
  for (let i = 0; i < count; i++) {
    const r = rows[i];
    gs += g[r];
    hs += h[r];
  }
  newNode(0, count, gs, hs);
  const open: Candidate[] = [];
  const consider = (node: number, depth: number, hist: Float64Array): void => {
    const split = emptySplit();
    findBestSplit(split, hist, binned, features, G[node], H[node], p.lambda, minChild, p.gamma);
    if (split.feature >= 0) open.push({ node, start: nStart[node], end: nEnd[node], depth, hist, split });
    else ws.pool.push(hist);
  };
  if (canSplit(0, count, 0, hs)) {
    const hist = takeHist(ws);
    build(hist, 0, count);
    consider(0, 0, hist);
  }

  let leaves = 1;
  let head = 0; // depth-wise: FIFO over `open`
  while (leaves < maxLeaves) {
    let c: Candidate;
    if (p.growPolicy === 'depthwise') {
      if (head >= open.length) break;
      c = open[head++];
    } else {
      if (open.length === 0) break;
      let bi = 0;
      for (let i = 1; i < open.length; i++) if (open[i].split.gain > open[bi].split.gain) bi = i;
      c = open[bi];
      open[bi] = open[open.length - 1];
      open.pop();
    }
    const s = c.split;
    const mid = partition(ws, c.start, c.end, s.feature, s.bin, s.missingLeft);
    const ln = newNode(c.start, mid, s.gl, s.hl);
    const rn = newNode(mid, c.end, s.gr, s.hr);
    const node = c.node;
    feature[node] = s.feature;
    threshold[node] = thresholdOf(binned, s.feature, s.bin);
    left[node] = ln;
    right[node] = rn;
    missingLeft[node] = s.missingLeft ? 1 : 0;
    splitBin[node] = s.bin;
    leaves++;

    const depth = c.depth + 1;
    const canL = canSplit(c.start, mid, depth, s.hl);
    const canR = canSplit(mid, c.end, depth, s.hr);
    const leftSmaller = mid - c.start <= c.end - mid;
    const small = leftSmaller ? ln : rn;
    const large = leftSmaller ? rn : ln;
    const canSmall = leftSmaller ? canL : canR;
    const canLarge = leftSmaller ? canR : canL;
    const parentHist = c.hist;
    if (canSmall && canLarge) {
      const sh = takeHist(ws);
      build(sh, nStart[small], nEnd[small]);
      subtractHistogram(parentHist, sh);
      consider(small, depth, sh);
      consider(large, depth, parentHist);
    } else if (canSmall) {
      build(parentHist, nStart[small], nEnd[small]);
      consider(small, depth, parentHist);
    } else if (canLarge) {
      const sh = takeHist(ws);
      build(sh, nStart[small], nEnd[small]);
      subtractHistogram(parentHist, sh);
      ws.pool.push(sh);
      consider(large, depth, parentHist);
    } else {
      ws.pool.push(parentHist);
    }
  }
  // Candidates never expanded (leaf budget reached) give their buffers back.
  const rest = p.growPolicy === 'depthwise' ? open.slice(head) : open;
  for (const c of rest) ws.pool.push(c.hist);

  const n = feature.length;
  const value = new Float64Array(n);
  const leafStart = new Int32Array(n).fill(-1);
  const leafEnd = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    if (left[i] !== -1) continue;
    value[i] = Math.fround((-G[i] / (H[i] + p.lambda)) * p.learningRate);
    leafStart[i] = nStart[i];
    leafEnd[i] = nEnd[i];
  }
  const tree: Tree = {
    output,
    feature: Int32Array.from(feature),
    threshold: Float32Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    missingLeft: Uint8Array.from(missingLeft),
    value,
  };
  return { tree, splitBin: Int32Array.from(splitBin), leafStart, leafEnd };
}

/** The leaf reached by binned row r (used for rows outside the tree's sample). */
export function binnedLeaf(grown: GrownTree, binned: BinnedMatrix, r: number): number {
  const { feature, left, right, missingLeft } = grown.tree;
  const { bins, nBins } = binned;
  const n = binned.rows;
  let node = 0;
  while (left[node] !== -1) {
    const f = feature[node];
    const b = bins[f * n + r];
    const goLeft = b === nBins[f] ? missingLeft[node] === 1 : b <= grown.splitBin[node];
    node = goLeft ? left[node] : right[node];
  }
  return node;
}
