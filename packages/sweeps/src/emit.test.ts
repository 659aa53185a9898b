import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { kubernetesJob, kubernetesJobYaml, validateKubernetesJob } from './emit-k8s.js';
import { shellQuote, slurmScript } from './emit-slurm.js';
import { planSweep } from './plan.js';
import { loadSweepFile, parseSweep } from './spec.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'fisherlab-emit-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const plan = planSweep(
  parseSweep(
    {
      name: 'emit-test',
      base: { model: { arch: 'mlp' }, optimizer: { lr: 0.1 }, steps: 2 },
      grid: { 'optimizer.lr': [0.1, 0.01, 0.001] },
      seeds: [0, 1],
    },
    '',
  ),
);

describe('sweep emit k8s', () => {
  it('writes an Indexed Job (completions = runs) that validates against the Kubernetes Job schema', () => {
    const job = kubernetesJob(plan, {
      image: 'registry.example/fisherlab:gpu',
      pvc: 'sweeps',
      dataPvc: 'datasets',
      gpus: 1,
      cpu: '4',
      memory: '16Gi',
      parallelism: 8,
      namespace: 'ml',
      env: { TF_FORCE_GPU_ALLOW_GROWTH: 'true' },
    });
    // round-trip through the YAML a user applies, then validate what kubectl would receive
    const text = kubernetesJobYaml(job, plan, '/data/sweeps/emit-test');
    const parsed = YAML.parse(text);
    expect(() => new Job(parsed).validate()).not.toThrow();
    expect(parsed.spec).toMatchObject({
      completionMode: 'Indexed',
      completions: 6,
      parallelism: 6,
      backoffLimitPerIndex: 2,
    });
    const pod = parsed.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.containers[0].command).toEqual(['fisherlab', 'sweep', 'run', '/sweep']);
    expect(pod.containers[0].resources.limits).toEqual({ cpu: '4', memory: '16Gi', 'nvidia.com/gpu': 1 });
    expect(pod.containers[0].env).toContainEqual({ name: 'FISHERLAB_DATA', value: '/data' });
    expect(pod.volumes).toContainEqual({ name: 'sweep', persistentVolumeClaim: { claimName: 'sweeps' } });
    expect(parsed.spec.podFailurePolicy.rules[0]).toMatchObject({
      action: 'FailIndex',
      onExitCodes: { values: [2] },
    });
  });

  it('lets a preempted pod checkpoint, and retries it without counting the interruption', () => {
    const job = kubernetesJob(plan, { image: 'i', pvc: 'sweeps' });
    validateKubernetesJob(job);
    const spec = YAML.parse(kubernetesJobYaml(job, plan, '/d')).spec;
    // SIGTERM, then this long to checkpoint before SIGKILL
    expect(spec.template.spec.terminationGracePeriodSeconds).toBe(120);
    // the replacement starts only once the old pod has stopped writing the run directory
    expect(spec.podReplacementPolicy).toBe('Failed');
    // first matching rule wins: a user error fails the index; an interruption (130) or a disruption is retried free
    expect(spec.podFailurePolicy.rules).toEqual([
      { action: 'FailIndex', onExitCodes: { containerName: 'fisherlab', operator: 'In', values: [2] } },
      {
        action: 'Ignore',
        onExitCodes: { containerName: 'fisherlab', operator: 'In', values: [130, 143] },
      },
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    ]);
    const slow = kubernetesJob(plan, { image: 'i', pvc: 'sweeps', gracePeriodSeconds: 600 });
    expect(slow.spec?.template.spec?.terminationGracePeriodSeconds).toBe(600);
    expect(() => kubernetesJob(plan, { image: 'i', pvc: 'sweeps', gracePeriodSeconds: 0 })).toThrow(
      /--grace-period must be a positive number of seconds/,
    );
  });

  it('the validator rejects what the API server would: a bad quantity, a bad enum', () => {
    const good = kubernetesJob(plan, { image: 'i', hostPath: '/srv/sweep' });
    expect(() => validateKubernetesJob(good)).not.toThrow();
    const badQuantity = kubernetesJob(plan, { image: 'i', hostPath: '/srv/sweep', memory: '16 GB' });
    expect(() => validateKubernetesJob(badQuantity)).toThrow(
      /does not validate against the Kubernetes schema: .*memory must match format "quantity"/,
    );
    const badMode = structuredClone(good);
    (badMode.spec as { completionMode: string }).completionMode = 'Indexd';
    expect(() => validateKubernetesJob(badMode)).toThrow(
      /completionMode must be equal to one of the allowed values/,
    );
  });

  it('asks for the volume and a DNS-label name', () => {
    expect(() => kubernetesJob(plan, { image: 'i' })).toThrow(/pass --pvc CLAIM .* or --host-path DIR/);
    expect(() => kubernetesJob(plan, { image: 'i', pvc: 'a', hostPath: '/b' })).toThrow(
      /either --pvc or --host-path/,
    );
    expect(() => kubernetesJob(plan, { image: 'i', pvc: 'a', name: 'Bad_Name' })).toThrow(/not a DNS label/);
  });
});

describe('sweep emit slurm', () => {
  it('writes an sbatch script with the array range, the concurrency limit and the command, which bash -n accepts', () => {
    const dir = mkdtempSync(path.join(scratch, "fisherlab slurm's dir-"));
    const script = slurmScript(plan, dir, {
      concurrency: 3,
      gpus: 1,
      time: '12:00:00',
      mem: '16G',
      cpusPerTask: 4,
      partition: 'gpu',
      setup: ['module load cuda/11.8'],
    });
    expect(script).toMatch(/^#!\/bin\/bash\n/);
    expect(script).toContain('#SBATCH --array=0-5%3\n');
    expect(script).toContain('#SBATCH --gres=gpu:1\n');
    expect(script).toContain('#SBATCH --signal=B:TERM@120\n');
    expect(script).toContain('#SBATCH --requeue\n');
    expect(script).toContain('#SBATCH --open-mode=append\n');
    expect(script).toContain(`\n  fisherlab sweep run ${shellQuote(dir)} &\n`);
    expect(script).toContain('scontrol requeue "$job"');
    const file = path.join(dir, 'job.sbatch');
    writeFileSync(file, script);
    execFileSync('bash', ['-n', file]);
    // the quoted directory survives the shell: the script's command sees exactly `dir`
    const echoed = execFileSync('bash', ['-c', `printf %s ${shellQuote(dir)}`]).toString();
    expect(echoed).toBe(dir);
  });

  it('refuses directive values that would break the script', () => {
    expect(() => slurmScript(plan, '/d', { partition: 'gpu\n#SBATCH --x' })).toThrow(
      /--partition must be one line without '#'/,
    );
    expect(() => slurmScript(plan, '/d', { concurrency: 0 })).toThrow(
      /--concurrency must be a positive integer/,
    );
    expect(() => slurmScript(plan, '/d', { signalBefore: 0 })).toThrow(
      /--signal-before must be a positive number of seconds/,
    );
  });

  it('asks for SIGTERM as long before the time limit as --signal-before says', () => {
    expect(slurmScript(plan, '/d', { signalBefore: 600 })).toContain('#SBATCH --signal=B:TERM@600\n');
  });
});

describe('docs/sweeps.md names what the emitters emit', () => {
  const repo = path.resolve(import.meta.dirname, '../../..');
  const docs = readFileSync(path.join(repo, 'docs/sweeps.md'), 'utf8');
  const loadPreset = (name: string) =>
    JSON.parse(readFileSync(path.join(repo, 'apps/cli/presets', `${name}.json`), 'utf8')).config;
  const planOf = (example: string) =>
    planSweep(loadSweepFile(path.join(repo, 'examples/sweeps', example), { loadPreset }));

  it("the Kubernetes example's kubectl lines select the Job the emitter names", () => {
    const job = kubernetesJob(planOf('paper-fig2-vgg11-cifar100.yaml'), { image: 'i', pvc: 'p' });
    const selected = [...docs.matchAll(/kubectl get pods -l job-name=(\S+)/g)].map((m) => m[1]);
    expect(selected.length).toBeGreaterThan(0);
    for (const name of selected) expect(name).toBe(job.metadata?.name);
    expect(docs).toContain(`job.batch/${job.metadata?.name} created`);
  });

  it("the Slurm example's log file is named after the emitted job name", () => {
    const script = slurmScript(planOf('tiny-grid.yaml'), '/shared/sweeps/tiny');
    const jobName = /#SBATCH --job-name=(\S+)/.exec(script)?.[1];
    const logs = [...docs.matchAll(/\/shared\/sweeps\/tiny\/logs\/(\S+)-1234_\d\.out/g)].map((m) => m[1]);
    expect(logs.length).toBeGreaterThan(0);
    for (const name of logs) expect(name).toBe(jobName);
  });
});
