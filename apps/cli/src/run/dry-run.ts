/** The dry run lives in @fisherlab/training, beside what it checks. */
export { dryRun } from '@fisherlab/training';
