export { buildProgram, main } from './main.js';
export { EXIT, UserError } from './errors.js';
