export type { DenseNetOptions } from './archs/densenet.js';
export type { MlpOptions } from './archs/mlp.js';
export type { SimpleCnnOptions } from './archs/simplecnn.js';
export { VGG11_CONFIG, type VggOptions } from './archs/vgg.js';
export type { WrnOptions } from './archs/wrn.js';
export { writeFileAtomic } from './checkpoint/atomic.js';
export {
  type LoadedCheckpoint,
  loadCheckpointModel,
  type SaveCheckpointOptions,
  saveCheckpointModel,
} from './checkpoint/checkpoint.js';
export { fileSystemIOHandler } from './checkpoint/fs-handler.js';
export type { OptimizerSnapshot, OptimizerSnapshotValues } from './checkpoint/optimizer-state.js';
export { INIT_SCHEMES, type InitScheme } from './init.js';
export {
  countTrainableParams,
  decayableVariables,
  fisherPenaltyVariables,
  type WeightKind,
  type WeightRole,
  type WeightRoleOptions,
  weightRoles,
} from './params.js';
export {
  ARCHITECTURES,
  type Arch,
  type CommonModelOptions,
  createModel,
  type ModelSpec,
  validateModelSpec,
} from './registry.js';
