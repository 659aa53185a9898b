/**
 * @fisherlab/core: what every FisherLab package shares, with no dependencies: the error classes for
 * bad input and non-finite results, the one seeded random generator family, and how a duration is
 * written for people.
 */
export { formatDuration } from './format-duration.js';
export { InputError, type InputErrorFields, isInputError } from './input-error.js';
export { firstNonFinite, NonFiniteError } from './non-finite-error.js';
export { deriveSeed, Rng, type RngState, seededUniform } from './rng.js';
