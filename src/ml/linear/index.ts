// Linear models: logistic regression (binary, multinomial) and ridge regression, solved by L-BFGS
// (and ridge in closed form when the features are few).
export { type LbfgsOptions, type LbfgsResult, lbfgs, type Objective } from './lbfgs.ts';
export {
  type FitControl,
  type FitInfo,
  fitLogistic,
  type LinearFit,
  type LinearParams,
  type LogisticOptions,
  rowWeights,
} from './logistic.ts';
export { createObjective, type LossKind, type Problem } from './objective.ts';
export { choleskySolve, fitRidge, RIDGE_CLOSED_FORM_MAX_FEATURES, type RidgeOptions } from './ridge.ts';
