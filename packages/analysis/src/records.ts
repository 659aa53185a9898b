// The run-record types are defined once, in @fisherlab/storage, beside the other on-disk formats.
export type {
  CurvatureRecord,
  EvalRecord,
  FisherRecord,
  MetricRecord,
  RunMeta,
  RunStatus,
  TrainRecord,
} from '@fisherlab/storage';
