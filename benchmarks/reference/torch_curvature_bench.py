"""PyTorch side of src/curvature.bench.ts: curvature products on SimpleCNN (torch_bench.py's model).

PyTorch 1.13 (Debian) has no torch.func, so the products use torch.autograd.grad directly:
  H v   double backward: grad(<grad(L, θ, create_graph), v>, θ);
  GGN v J v by the double-vjp trick (what torch.autograd.functional.jvp does): u ↦ Jᵀu = grad(f, θ, u,
        create_graph) is linear in u, so grad(<Jᵀu, v>, u) = J v; then (diag p − ppᵀ) J v per example;
        then one vjp grad(f, θ, M);
  F v   Monte Carlo Fisher: r = p − e_ŷ with ŷ ∼ p, M = r (r · J v), one vjp.
Each product is over one batch, averaged over examples. Prints the best of --reps as JSON.
  /usr/bin/python3 torch_curvature_bench.py --batch 128 --reps 3
"""

import argparse
import json
import time

import torch
import torch.nn.functional as F

from torch_bench import build_model


def products(model, x, y):
    params = [p for p in model.parameters() if p.requires_grad]
    v = [torch.randn_like(p) for p in params]
    n = x.shape[0]

    def hvp():
        loss = F.cross_entropy(model(x), y)
        grads = torch.autograd.grad(loss, params, create_graph=True)
        dot = sum((g * vi).sum() for g, vi in zip(grads, v))
        return torch.autograd.grad(dot, params)

    def jvp_and_outputs():
        f = model(x)
        u = torch.zeros_like(f, requires_grad=True)
        jt_u = torch.autograd.grad(f, params, u, create_graph=True)
        dot = sum((g * vi).sum() for g, vi in zip(jt_u, v))
        (jv,) = torch.autograd.grad(dot, u)
        return f, jv

    def ggn():
        f, jv = jvp_and_outputs()
        p = torch.softmax(f.detach(), 1)
        m = p * jv - p * (p * jv).sum(1, keepdim=True)
        return torch.autograd.grad(f, params, m / n)

    def fisher_mc():
        f, jv = jvp_and_outputs()
        p = torch.softmax(f.detach(), 1)
        drawn = torch.multinomial(p, 1).squeeze(1)
        r = p - F.one_hot(drawn, p.shape[1]).to(p.dtype)
        m = r * (r * jv).sum(1, keepdim=True)
        return torch.autograd.grad(f, params, m / n)

    return {'hvp': hvp, 'ggn': ggn, 'fisher-mc': fisher_mc}


def best_of(fn, reps):
    fn()  # warm-up
    best = None
    for _ in range(reps):
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        wall = (time.perf_counter() - t0) * 1000
        cpu = (time.process_time() - cpu0) * 1000
        if best is None or wall < best[0]:
            best = (wall, cpu)
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--batch', type=int, default=128)
    parser.add_argument('--reps', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build_model('simplecnn', 10, 32).eval()
    x = torch.randn(args.batch, 3, 32, 32)
    y = torch.randint(0, 10, (args.batch,))
    out = []
    for name, fn in products(model, x, y).items():
        wall, cpu = best_of(fn, args.reps)
        out.append({'product': name, 'wallMs': wall, 'cpuMs': cpu})
    print(json.dumps(out), flush=True)


if __name__ == '__main__':
    main()
