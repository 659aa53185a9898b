#!/usr/bin/env node
// The signal handlers first, and everything slow (commander, TensorFlow.js, the commands) after
// them, so a SIGTERM at any moment of start-up ends with 130 rather than the signal's 143.
// A SIGINT/SIGTERM that no command handles (during start-up, before a run began or after it ended)
// ends the process at once with 130. Nothing is being written then (or only atomically), so the run
// directory is as resumable as it was, and the engines treat 130 as "interrupted": Slurm's script
// requeues, Kubernetes does not count a retry. While a command handles the signal (a run
// checkpointing, a pool stopping its workers) this one stands aside.
const exitOnUnhandledStop = (signal: NodeJS.Signals) => {
  if (process.listenerCount(signal) > 1) return; // a command handles it
  console.error(`fisherlab: ${signal} while no run was in progress: exiting (130)`);
  process.exit(130);
};
process.on('SIGINT', exitOnUnhandledStop);
process.on('SIGTERM', exitOnUnhandledStop);
// names the process in ps and top; set once the handlers are in place, so whoever watches the
// process (an operator, the start-up signal test) can tell that a SIGTERM from now on ends in 130
process.title = 'fisherlab';
const { main } = await import('./main.js');
process.exitCode = await main(process.argv.slice(2));
