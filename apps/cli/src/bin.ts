#!/usr/bin/env node
// The signal handlers first, and everything slow (commander, TensorFlow.js, the commands) after
// them, so a SIGTERM at any moment of start-up ends with 130 rather than the signal's 143.
import { exitOnUnhandledStop } from './run/stop-signals.js';

exitOnUnhandledStop();
// names the process in ps and top; set once the handlers are in place, so whoever watches the
// process (an operator, the start-up signal test) can tell that a SIGTERM from now on ends in 130
process.title = 'fisherlab';
const { main } = await import('./main.js');
process.exitCode = await main(process.argv.slice(2));
