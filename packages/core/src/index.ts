/**
 * @fisherlab/core: what every FisherLab package shares, with no dependencies: the error classes for
 * bad input and non-finite results, and the one seeded random generator family.
 */
export { InputError, type InputErrorFields, isInputError } from './input-error.js';
export { firstNonFinite, NonFiniteError } from './non-finite-error.js';
export { deriveSeed, Rng, type RngState, seededUniform } from './rng.js';
