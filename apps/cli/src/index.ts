// The fisherlab command as a program: its commands, exit codes and error boundary. The sweep
// library is @fisherlab/sweeps; training, reports and the rest are their own packages.
export { EXIT, UserError } from './errors.js';
export { buildProgram, main } from './main.js';
