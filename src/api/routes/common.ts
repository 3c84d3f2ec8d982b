// Pieces every route module shares.
import { Type } from 'typebox';

const problem = Type.Ref('Problem');

/** The error answers every authenticated route may give, for the OpenAPI document. */
export const errorResponses = {
  400: problem,
  401: problem,
  403: problem,
  404: problem,
  '5xx': problem,
} as const;
