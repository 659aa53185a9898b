"""Cross-check of FisherLab's curvature operators against PyTorch (never a dependency of the package).

Rebuilds the small zoo models of src/operators/fixtures/cases.ts in PyTorch from the dumped tfjs
weights (tfjs layouts: dense kernels [in, out], conv kernels [kh, kw, cin, cout], NHWC activations),
in float64, and computes with torch.autograd.functional (PyTorch 1.13 has no torch.func):
  H v, the top Hessian eigenvalues (dense Hessian, eigvalsh);
  G v, diag(G), Tr(G) and the top GGN eigenvalues for softmax cross-entropy (G = exact Fisher),
  from per-example Jacobians: G = (1/N) sum_i J_i^T (diag p_i - p_i p_i^T) J_i;
  G v for mse (the Gaussian likelihood, 1/2 ||f - y||^2): (1/N) sum_i J_i^T J_i v;
  the Monte Carlo Fisher F v and diagonal with the labels FisherLab's seeded stream drew;
  the empirical Fisher F v (true labels).

Usage (Debian: apt-get install python3-torch):
  1. pnpm exec tsx --conditions=source scripts/dump-curvature-cases.ts /tmp/curvature-dump.json
  2. /usr/bin/python3 scripts/torch_curvature.py /tmp/curvature-dump.json src/operators/fixtures/torch-curvature.json
"""

import json
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def unflatten(theta, shapes):
    out, offset = [], 0
    for shape in shapes:
        size = 1
        for d in shape:
            size *= d
        out.append(theta[offset:offset + size].reshape(shape))
        offset += size
    return out


def conv_same(x, kernel, bias):
    """tfjs conv2d 'same' (3x3, stride 1) on NHWC with a [kh, kw, cin, cout] kernel."""
    y = F.conv2d(x.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1), bias, padding=1)
    return y.permute(0, 2, 3, 1)


def max_pool(x):
    return F.max_pool2d(x.permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1)


def forward(arch, params, x):
    if arch == 'mlp':
        w1, b1, w2, b2 = params
        return torch.relu(x @ w1 + b1) @ w2 + b2
    c1, cb1, c2, cb2, w1, b1, w2, b2 = params
    h = max_pool(torch.relu(conv_same(x, c1, cb1)))
    h = max_pool(torch.relu(conv_same(h, c2, cb2)))
    h = h.flatten(1)  # NHWC order, as tfjs flattens
    return torch.relu(h @ w1 + b1) @ w2 + b2


def top(matrix, k=3):
    return torch.linalg.eigvalsh(matrix).flip(0)[:k].tolist()


def quantities(case):
    arch = case['spec']['arch']
    shapes = [w['shape'] for w in case['weights']]
    theta = torch.tensor([v for w in case['weights'] for v in w['values']])
    x = torch.tensor(case['x']).reshape(case['xShape'])
    labels = torch.tensor(case['labels'])
    targets = torch.tensor(case['targets']).reshape(len(case['labels']), -1)
    v = torch.tensor(case['v'])
    mc_labels = torch.tensor(case['mcLabels'])
    n = x.shape[0]

    f = lambda t: forward(arch, unflatten(t, shapes), x)
    loss = lambda t: F.cross_entropy(f(t), labels)
    hessian = torch.autograd.functional.hessian(loss, theta)
    jac = torch.autograd.functional.jacobian(f, theta)  # [N, C, P]
    logits = f(theta).detach()
    p = torch.softmax(logits, 1)
    loss_hessians = torch.diag_embed(p) - p.unsqueeze(2) * p.unsqueeze(1)
    ggn = torch.einsum('ncp,ncd,ndq->pq', jac, loss_hessians, jac) / n
    ggn_mse = torch.einsum('ncp,ncq->pq', jac, jac) / n

    def label_fisher(y):
        r = p - F.one_hot(y, p.shape[1]).double()
        g = torch.einsum('ncp,nc->np', jac, r)
        return g.T @ g / n

    fisher_mc = label_fisher(mc_labels)
    fisher_empirical = label_fisher(labels)
    return {
        'Hv': (hessian @ v).tolist(),
        'hessianTop': top(hessian),
        'ggnV': (ggn @ v).tolist(),
        'ggnDiag': torch.diagonal(ggn).tolist(),
        'ggnTrace': torch.trace(ggn).item(),
        'ggnTop': top(ggn),
        'mseGgnV': (ggn_mse @ v).tolist(),
        'mcFisherV': (fisher_mc @ v).tolist(),
        'mcFisherDiag': torch.diagonal(fisher_mc).tolist(),
        'empiricalFisherV': (fisher_empirical @ v).tolist(),
        'size': theta.numel(),
        'targetsShape': list(targets.shape),
    }


def main(dump_path, out_path):
    with open(dump_path) as f:
        dump = json.load(f)
    results = {'torch': torch.__version__, 'dtype': 'float64', 'cases': {}}
    for key, case in dump.items():
        results['cases'][key] = quantities(case)
        print(key, 'parameters', results['cases'][key]['size'], 'top H', results['cases'][key]['hessianTop'])
    with open(out_path, 'w') as f:
        json.dump(results, f, indent=1)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
