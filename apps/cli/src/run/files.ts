/** The project's one atomic write and directory creation, from @fisherlab/storage. */
export {
  ensureDirectory,
  explainWriteError,
  WriteError,
  writeFileAtomic,
  writeJsonAtomic,
} from '@fisherlab/storage';
