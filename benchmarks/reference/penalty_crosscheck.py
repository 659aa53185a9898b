"""The penalty gradient ∇θ‖ḡ‖² in PyTorch (ḡ: the mean cross-entropy gradient for given labels,
BatchNorm in training mode on the batch's statistics; double backprop with create_graph), for the
weights, input and labels FisherLab wrote: the independent reference of
src/penalty-crosscheck.test.ts. Never a dependency of FisherLab.

The model is packages/models/scripts/torch_crosscheck.py's VGG11 (kuangliu's, with the zoo's
module names), loaded with strict=True, so both sides have exactly the same parameters.

Usage: /usr/bin/python3 penalty_crosscheck.py <dir>
  reads  <dir>/dump.json (classes, weights [{name, shape}], input shape, labels) and <dir>/dump.bin
         (float32: the weights in that order, then the NHWC input);
  writes <dir>/torch.json ({penalty}) and <dir>/torch.bin (float32: each weight's gradient, in
         FisherLab's layout and order).
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'packages', 'models', 'scripts'))
from torch_crosscheck import VGG11, to_torch  # noqa: E402


def main(folder):
    torch.set_num_threads(2)
    with open(os.path.join(folder, 'dump.json')) as f:
        dump = json.load(f)
    values = np.fromfile(os.path.join(folder, 'dump.bin'), dtype=np.float32)
    state, torch_names, offset = {}, [], 0
    for weight in dump['weights']:
        size = int(np.prod(weight['shape']))
        name, tensor = to_torch(weight['name'], weight['shape'], values[offset:offset + size].tolist())
        state[name] = tensor
        torch_names.append(name)
        offset += size
    model = VGG11(dump['classes']).train()
    model.load_state_dict(state, strict=False)
    missing = set(model.state_dict()) - set(state) - {k for k in model.state_dict() if k.endswith('num_batches_tracked')}
    if missing:
        raise SystemExit(f'weights missing from the dump: {sorted(missing)}')
    x = torch.from_numpy(values[offset:].copy()).reshape(dump['input']).permute(0, 3, 1, 2)
    y = torch.tensor(dump['labels'])
    params = dict(model.named_parameters())
    trained = [n for n in torch_names if n in params]
    loss = F.cross_entropy(model(x), y)
    g = torch.autograd.grad(loss, [params[n] for n in trained], create_graph=True)
    penalty = sum((gi * gi).sum() for gi in g)
    grads = dict(zip(trained, torch.autograd.grad(penalty, [params[n] for n in trained])))
    out = []
    for name in trained:
        grad = grads[name]
        # Back to FisherLab's layouts: conv kernels [kh, kw, cin, cout], dense kernels [in, out].
        if grad.dim() == 4:
            grad = grad.permute(2, 3, 1, 0)
        elif grad.dim() == 2:
            grad = grad.t()
        out.append(grad.contiguous().flatten().numpy())
    np.concatenate(out).astype(np.float32).tofile(os.path.join(folder, 'torch.bin'))
    with open(os.path.join(folder, 'torch.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'penalty': penalty.item(), 'weights': trained}, f)


if __name__ == '__main__':
    main(sys.argv[1])
