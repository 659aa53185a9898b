"""PyTorch reference for FisherLab's benchmark suite (never a runtime dependency).

The same tasks as benchmarks/src/fisherlab-worker.ts, on the same architectures, batch and data
shapes, with PyTorch's standard methods:
  sgd-step      one SGD step (lr 0.01): forward, cross-entropy, backward, update;
  penalty-k1    one Fisher-penalty step, double backprop: g = autograd.grad(L̂, θ, create_graph=True)
                with ŷ ~ softmax(logits) drawn from the step's own forward pass, then
                (loss + α‖g‖²).backward() (as acmi-lab/imp-regularizers and BartekKrzepkowski/FisherPenalty);
  penalty-k10   ten steps with the penalty on the first only (ms reported per step);
  trace-mc / trace-empirical / trace-exact / trace-minibatch   Tr(F) on n examples, BatchNorm in
                eval mode, per-example gradients by one backward per example ('loop', the default:
                faster than functorch.vmap(grad(...)) on this torch) or functorch.vmap (torch 1.13
                has no torch.func); minibatch: one backward per batch;
  forward       inference-mode forward pass of one batch;
  matmul        an n x n by n x n float32 matmul (the backend's compute peak).

Run by the suite as a worker: one JSON request per stdin line, one JSON reply per stdout line
(`python3 torch_bench.py --serve`). `python3 torch_bench.py --selftest` times every task once.
Threads: torch.set_num_threads(2) unless --threads says otherwise. BLAS: Debian's torch uses whatever
provides libblas.so.3; the reference BLAS (the default without OpenBLAS) makes its matmuls ~50x slower.
The worker's hello reports what it really loaded (blas_probe.py), its build configuration and its
1024³ matmul rate, and the suite refuses to compare against a reference BLAS (benchmarks/README.md).
"""

import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import blas_probe

try:
    from functorch import grad as ft_grad
    from functorch import make_functional_with_buffers, vmap

    HAS_FUNCTORCH = True
except ImportError:  # depends on the installed torch
    HAS_FUNCTORCH = False

# Per-example gradients: 'loop' (one backward per example) measured 2.2x less CPU than
# functorch.vmap(grad(...)) for SimpleCNN on Debian's torch 1.13 (1.3 s vs 2.9 s for 128 examples),
# so the faster one is the default reference; a request can ask for 'vmap'.
DEFAULT_PER_EXAMPLE = 'loop'

ALPHA = 0.1
LR = 0.01
WARMUP_RUNS = 3
WARMUP_BUDGET_MS = 3000


class SimpleCNN(nn.Module):
    """conv f1 3x3 pad 1, ReLU, max-pool 2; conv f2 3x3 pad 1, ReLU, max-pool 2; Linear h, ReLU; Linear C
    (f1, f2, h = 32, 64, 128; the demo's CNN: 16, 32, 64)."""

    def __init__(self, in_ch, n_cls, side, filters=(32, 64), hidden=128):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, filters[0], 3, padding=1)
        self.conv2 = nn.Conv2d(filters[0], filters[1], 3, padding=1)
        self.fc1 = nn.Linear(filters[1] * (side // 4) ** 2, hidden)
        self.fc2 = nn.Linear(hidden, n_cls)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


class VGG11(nn.Module):
    """kuangliu/pytorch-cifar VGG('VGG11') with BatchNorm after every conv (CIFAR width)."""

    def __init__(self, n_cls, batch_norm=True):
        super().__init__()
        layers, cin = [], 3
        for item in [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M']:
            if item == 'M':
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers.append(nn.Conv2d(cin, item, 3, padding=1))
                if batch_norm:
                    layers.append(nn.BatchNorm2d(item))
                layers.append(nn.ReLU())
                cin = item
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(512, n_cls)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class ResNetBlock(nn.Module):
    """kuangliu/pytorch-cifar BasicBlock: conv3x3(stride)-BN-ReLU-conv3x3-BN, plus the input (through
    a 1x1 conv(stride)+BN shortcut when the shape changes), then ReLU."""

    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    """kuangliu/pytorch-cifar ResNet18(): 3x3 stem (64, stride 1, no max-pool), BN, ReLU; four stages
    of two blocks (64, 128, 256, 512; strides 1, 2, 2, 2); global average pool (its avg_pool2d(4) at
    32x32; global as in FisherLab's zoo); Linear(512, classes)."""

    def __init__(self, n_cls):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        blocks, cin = [], 64
        for planes, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            for s in (stride, 1):
                blocks.append(ResNetBlock(cin, planes, s))
                cin = planes
        self.layers = nn.Sequential(*blocks)
        self.linear = nn.Linear(512, n_cls)

    def forward(self, x):
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.linear(F.adaptive_avg_pool2d(out, 1).flatten(1))


class WideBlock(nn.Module):
    """xternalz/WideResNet-pytorch BasicBlock (pre-activation, no dropout): BN-ReLU-conv3x3(stride)-
    BN-ReLU-conv3x3, added to the input, or to a 1x1 conv(stride) of the activated input when the
    width changes."""

    def __init__(self, in_planes, out_planes, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, out_planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.conv2 = nn.Conv2d(out_planes, out_planes, 3, stride=1, padding=1, bias=False)
        self.equal_in_out = in_planes == out_planes
        self.conv_shortcut = (
            None if self.equal_in_out else nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False)
        )

    def forward(self, x):
        activated = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(activated))))
        return (x if self.equal_in_out else self.conv_shortcut(activated)) + out


class WideResNet(nn.Module):
    """xternalz/WideResNet-pytorch WideResNet(depth, classes, widen_factor): conv3x3(16) stem; three
    groups of (depth - 4)/6 blocks with 16k, 32k, 64k channels (strides 1, 2, 2); BN, ReLU, global
    average pool (its avg_pool2d(8) at 32x32; global as in FisherLab's zoo); Linear(64k, classes)."""

    def __init__(self, depth, width, n_cls):
        super().__init__()
        n = (depth - 4) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, stride=1, padding=1, bias=False)
        blocks, cin = [], 16
        for planes, stride in [(16 * width, 1), (32 * width, 2), (64 * width, 2)]:
            for i in range(n):
                blocks.append(WideBlock(cin, planes, stride if i == 0 else 1))
                cin = planes
        self.blocks = nn.Sequential(*blocks)
        self.bn1 = nn.BatchNorm2d(cin)
        self.fc = nn.Linear(cin, n_cls)

    def forward(self, x):
        out = F.relu(self.bn1(self.blocks(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))


MODELS = {
    'simplecnn': lambda classes, side: SimpleCNN(3, classes, side),
    'vgg11bn': lambda classes, side: VGG11(classes, batch_norm=True),
    'resnet18': lambda classes, side: ResNet18(classes),
    'wrn16-4': lambda classes, side: WideResNet(16, 4, classes),
    'democnn': lambda classes, side: SimpleCNN(1, classes, side, (16, 32), 64),
}


def build_model(name, classes, side):
    if name not in MODELS:
        raise ValueError(f"model '{name}': expected one of {', '.join(MODELS)}")
    return MODELS[name](classes, side)


def forward_flops(model, x):
    """2 x multiply-adds of every Conv2d and Linear for one example (BN, ReLU and pooling left out)."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
            total += 2 * k * output.shape[1] * output.shape[2] * output.shape[3]
        elif isinstance(module, nn.Linear):
            total += 2 * module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(x[:1])
    model.train(was_training)
    for h in handles:
        h.remove()
    return total


class Task:
    """One prepared measurement: `run()` is timed, `info` describes what was built."""

    def __init__(self, request):
        self.kind = request['task']
        self.info = {}
        torch.manual_seed(request.get('seed', 0))
        if self.kind == 'matmul':
            n = request['n']
            self.a = torch.randn(n, n)
            self.b = torch.randn(n, n)
            self.info['flops'] = 2 * n**3
            return
        side = request.get('side', 32)
        classes = request['classes']
        self.classes = classes
        self.batch = request['batch']
        self.model = build_model(request['model'], classes, side)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.info['params'] = sum(p.numel() for p in self.params)
        examples = request.get('n', self.batch) if self.kind.startswith('trace-') else self.batch
        self.x = torch.randn(examples, request.get('channels', 3), side, side)
        self.y = torch.randint(0, classes, (examples,))
        self.info['flopsPerExample'] = forward_flops(self.model, self.x)
        self.opt = torch.optim.SGD(self.params, lr=LR)
        self.step = 0
        if self.kind.startswith('trace-'):
            self.model.eval()
            self.per_example = request.get('perExample', DEFAULT_PER_EXAMPLE)
            if self.per_example not in ('loop', 'vmap') or (self.per_example == 'vmap' and not HAS_FUNCTORCH):
                raise ValueError(f"perExample '{self.per_example}': expected 'loop' or 'vmap' (vmap needs functorch)")
            self.info['perExampleMethod'] = 'functorch.vmap' if self.per_example == 'vmap' else 'loop'
        else:
            self.model.train(self.kind != 'forward')

    def run(self):
        return getattr(self, 'run_' + self.kind.replace('-', '_'))()

    def run_matmul(self):
        return float(torch.mm(self.a, self.b)[0, 0])

    def run_forward(self):
        with torch.no_grad():
            return float(self.model(self.x).sum())

    def run_sgd_step(self):
        self.opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()
        return float(loss)

    def penalty_step(self, penalized):
        self.opt.zero_grad(set_to_none=True)
        logits = self.model(self.x)
        loss = F.cross_entropy(logits, self.y)
        if penalized:
            with torch.no_grad():
                y_hat = torch.multinomial(F.softmax(logits, 1), 1).squeeze(1)
            # ‖ḡ‖² with ḡ = ∇θ (1/B) Σ ℓ(xᵢ, ŷᵢ); create_graph keeps it differentiable (double backprop).
            g = torch.autograd.grad(F.cross_entropy(logits, y_hat), self.params, create_graph=True)
            loss = loss + ALPHA * sum((gi * gi).sum() for gi in g)
        loss.backward()
        self.opt.step()
        return float(loss)

    def run_penalty_k1(self):
        return self.penalty_step(True)

    def run_penalty_k10(self):
        value = 0.0
        for _ in range(10):
            value = self.penalty_step(self.step % 10 == 0)
            self.step += 1
        return value

    # ---- Tr(F): every estimator returns (value, standard error) over examples or batches ----

    def per_example_sq_norms(self, x, labels):
        """‖∇θ ℓ(xᵢ, labelᵢ)‖² for every example of the chunk."""
        if self.per_example == 'vmap':
            fmodel, params, buffers = make_functional_with_buffers(self.model)

            def loss_one(p, b, xi, yi):
                return F.cross_entropy(fmodel(p, b, xi.unsqueeze(0)), yi.unsqueeze(0))

            grads = vmap(ft_grad(loss_one), in_dims=(None, None, 0, 0))(params, buffers, x, labels)
            return sum(g.reshape(g.shape[0], -1).pow(2).sum(1) for g in grads).detach()
        norms = []
        for i in range(x.shape[0]):
            g = torch.autograd.grad(F.cross_entropy(self.model(x[i : i + 1]), labels[i : i + 1]), self.params)
            norms.append(sum((gi * gi).sum() for gi in g))
        return torch.stack(norms).detach()

    def chunks(self):
        for start in range(0, self.x.shape[0], self.batch):
            yield self.x[start : start + self.batch], self.y[start : start + self.batch]

    def run_trace_mc(self):
        # Tr F ≈ mean_i ‖g(xᵢ, ŷᵢ)‖², ŷᵢ ~ p(·|xᵢ)
        values = []
        for x, _ in self.chunks():
            with torch.no_grad():
                y_hat = torch.multinomial(F.softmax(self.model(x), 1), 1).squeeze(1)
            values.append(self.per_example_sq_norms(x, y_hat))
        return mean_and_se(torch.cat(values))

    def run_trace_empirical(self):
        # empirical Fisher: mean_i ‖g(xᵢ, yᵢ)‖² at the true labels
        return mean_and_se(torch.cat([self.per_example_sq_norms(x, y) for x, y in self.chunks()]))

    def run_trace_exact(self):
        # Tr F(x) = Σ_c p(c|x) ‖g(x, c)‖², C per-example passes per chunk
        values = []
        for x, _ in self.chunks():
            with torch.no_grad():
                p = F.softmax(self.model(x), 1)
            total = torch.zeros(x.shape[0])
            for c in range(self.classes):
                total += p[:, c] * self.per_example_sq_norms(x, torch.full((x.shape[0],), c))
            values.append(total)
        return mean_and_se(torch.cat(values))

    def run_trace_minibatch(self):
        # B·‖(1/B) Σᵢ g(xᵢ, ŷᵢ)‖² per batch, one backward per batch; SE over batches
        values = []
        for x, _ in self.chunks():
            logits = self.model(x)
            with torch.no_grad():
                y_hat = torch.multinomial(F.softmax(logits, 1), 1).squeeze(1)
            g = torch.autograd.grad(F.cross_entropy(logits, y_hat), self.params)
            values.append(x.shape[0] * float(sum((gi * gi).sum() for gi in g)))
        return mean_and_se(torch.tensor(values))


def mean_and_se(values):
    n = values.numel()
    sd = float(values.std()) if n > 1 else math.nan
    return [float(values.mean()), sd / math.sqrt(n)]


def matmul_gflops(n=1024, runs=3):
    """The best of `runs` timed n x n by n x n float32 matmuls after one untimed one, in GFLOP/s."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = min(timed(lambda: torch.mm(a, b))[0] for _ in range(runs))
    return 2 * n**3 / best / 1e6


def reference_configuration():
    """What this PyTorch computes with: its build configuration, the BLAS and oneDNN libraries it
    really loaded, and its matmul rate (classified by the suite, benchmarks/src/reference.ts)."""
    return {
        **blas_probe.facts(),
        'config': torch.__config__.show(),
        'parallelInfo': torch.__config__.parallel_info(),
        'mkldnnAvailable': torch.backends.mkldnn.is_available(),
        'matmulGflops1024': matmul_gflops(),
    }


def timed(fn, min_ms=0.0):
    """One timed run: fn back to back until min_ms have passed (at least once), as a training loop
    runs its steps; wall and CPU ms per repetition, the last value and the repetitions."""
    cpu = time.process_time()
    wall = time.perf_counter()
    value = fn()
    repetitions = 1
    while (time.perf_counter() - wall) * 1000 < min_ms:
        value = fn()
        repetitions += 1
    wall_ms = (time.perf_counter() - wall) * 1000 / repetitions
    cpu_ms = (time.process_time() - cpu) * 1000 / repetitions
    return wall_ms, cpu_ms, value, repetitions


def serve(threads):
    torch.set_num_threads(threads)
    task = None
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        reply = {'id': request.get('id')}
        try:
            cmd = request['cmd']
            if cmd == 'hello':
                reply['result'] = {
                    'name': 'pytorch',
                    'version': torch.__version__,
                    'threads': torch.get_num_threads(),
                    'reference': reference_configuration(),
                    'perExampleMethods': ['loop', 'vmap'] if HAS_FUNCTORCH else ['loop'],
                }
            elif cmd == 'prepare':
                task = Task(request)
                # Warm-up as in the FisherLab worker: up to WARMUP_RUNS untimed runs while they
                # total under WARMUP_BUDGET_MS.
                warm_ms, _, value, _ = timed(task.run)
                spent, runs = warm_ms, 1
                while runs < WARMUP_RUNS and spent < WARMUP_BUDGET_MS:
                    spent += timed(task.run)[0]
                    runs += 1
                reply['result'] = {**task.info, 'warmupMs': warm_ms, 'value': value}
            elif cmd == 'time':
                wall, cpu, value, repetitions = timed(task.run, float(request.get('minMs', 0)))
                reply['result'] = {
                    'wallMs': wall,
                    'cpuMs': cpu,
                    'repetitions': repetitions,
                    'value': value,
                    'maxRssBytes': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                }
            elif cmd == 'release':
                task = None
                reply['result'] = {}
            elif cmd == 'exit':
                print(json.dumps({**reply, 'result': {}}), flush=True)
                return
            else:
                raise ValueError(f"unknown cmd '{cmd}'")
        except Exception as error:  # reported to the suite, which names the task
            reply['error'] = f'{type(error).__name__}: {error}'
        print(json.dumps(reply), flush=True)


def selftest(threads):
    torch.set_num_threads(threads)
    cases = [
        {'task': 'matmul', 'n': 512},
        {'task': 'forward', 'model': 'simplecnn', 'classes': 10, 'batch': 128},
        {'task': 'sgd-step', 'model': 'simplecnn', 'classes': 10, 'batch': 128},
        {'task': 'penalty-k1', 'model': 'simplecnn', 'classes': 10, 'batch': 128},
        {'task': 'trace-mc', 'model': 'simplecnn', 'classes': 10, 'batch': 128, 'n': 256},
        {'task': 'trace-exact', 'model': 'simplecnn', 'classes': 10, 'batch': 32, 'n': 32},
        {'task': 'trace-minibatch', 'model': 'simplecnn', 'classes': 10, 'batch': 128, 'n': 256},
    ]
    for case in cases:
        task = Task(case)
        task.run()
        wall, cpu, value, _ = timed(task.run)
        print(f"{case['task']:16} {wall:8.1f} ms wall {cpu:8.1f} ms cpu  value {value}  {task.info}")


if __name__ == '__main__':
    args = sys.argv[1:]
    n_threads = int(args[args.index('--threads') + 1]) if '--threads' in args else 2
    if '--serve' in args:
        serve(n_threads)
    else:
        selftest(n_threads)
