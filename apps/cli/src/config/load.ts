/** Config files and layering live in @fisherlab/training, beside the schema they feed. */
export { mergeConfig, readConfigFile, setPath } from '@fisherlab/training';
