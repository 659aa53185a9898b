"""One-off cross-check of the zoo against PyTorch (never a dependency of the package).

Rebuilds the reference CIFAR definitions (kuangliu/pytorch-cifar VGG('VGG11') and ResNet18,
xternalz/WideResNet-pytorch WideResNet, andreasveit/densenet-pytorch DenseNet3) with the same module
names, so a tfjs weight 'layer1.0.conv1/kernel' maps to the state_dict key 'layer1.0.conv1.weight'.
Loading with strict=True therefore also checks that both sides have exactly the same parameters.

Usage (Debian: apt-get install python3-torch):
  1. dump tfjs weights, input and logits for CROSSCHECK_SPECS to <dump>/<key>/dump.json
     (see src/fixtures/torch-crosscheck.ts);
  2. /usr/bin/python3 scripts/torch_crosscheck.py <dump> src/fixtures/torch-logits.json
It prints parameter counts and the largest |logit difference|, and writes PyTorch's logits.
"""

import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv(cin, cout, k, stride=1, padding=0, bias=False):
    return nn.Conv2d(cin, cout, k, stride=stride, padding=padding, bias=bias)


class SimpleCNN(nn.Module):
    def __init__(self, in_ch, n_cls, side):
        super().__init__()
        self.conv1 = conv(in_ch, 32, 3, padding=1, bias=True)
        self.conv2 = conv(32, 64, 3, padding=1, bias=True)
        self.fc1 = nn.Linear(64 * (side // 4) ** 2, 128)
        self.fc2 = nn.Linear(128, n_cls)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        # FisherLab flattens NHWC: permute so the same fc1 weights see the same order.
        x = x.permute(0, 2, 3, 1).flatten(1)
        return self.fc2(F.relu(self.fc1(x)))


class VGG11(nn.Module):
    def __init__(self, n_cls):
        super().__init__()
        layers, cin = [], 3
        for item in [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M']:
            if item == 'M':
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [conv(cin, item, 3, padding=1, bias=True), nn.BatchNorm2d(item), nn.ReLU()]
                cin = item
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(512, n_cls)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class ResBlock(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = conv(cin, planes, 3, stride, 1)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv(planes, planes, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != planes:
            self.shortcut = nn.Sequential(conv(cin, planes, 1, stride), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self, n_cls):
        super().__init__()
        self.conv1 = conv(3, 64, 3, 1, 1)
        self.bn1 = nn.BatchNorm2d(64)
        cin = 64
        for i, (planes, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)]):
            setattr(self, f'layer{i + 1}', nn.Sequential(ResBlock(cin, planes, stride), ResBlock(planes, planes, 1)))
            cin = planes
        self.linear = nn.Linear(512, n_cls)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.linear(F.adaptive_avg_pool2d(out, 1).flatten(1))


class WideBlock(nn.Module):
    def __init__(self, cin, cout, stride, drop):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = conv(cin, cout, 3, stride, 1)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = conv(cout, cout, 3, 1, 1)
        self.drop = drop
        self.equal = cin == cout
        self.convShortcut = None if self.equal else conv(cin, cout, 1, stride)

    def forward(self, x):
        act = F.relu(self.bn1(x))
        out = F.dropout(self.conv1(act), self.drop, self.training)
        out = self.conv2(F.relu(self.bn2(out)))
        return (x if self.equal else self.convShortcut(act)) + out


class Group(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.layer = nn.Sequential(*blocks)

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth, k, n_cls, drop=0.0):
        super().__init__()
        n = (depth - 4) // 6
        ch = [16, 16 * k, 32 * k, 64 * k]
        self.conv1 = conv(3, 16, 3, 1, 1)
        for g, stride in enumerate([1, 2, 2]):
            blocks = [WideBlock(ch[g] if i == 0 else ch[g + 1], ch[g + 1], stride if i == 0 else 1, drop) for i in range(n)]
            setattr(self, f'block{g + 1}', Group(blocks))
        self.bn1 = nn.BatchNorm2d(ch[3])
        self.fc = nn.Linear(ch[3], n_cls)

    def forward(self, x):
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(F.relu(self.bn1(out)), 1).flatten(1))


class DenseLayer(nn.Module):
    def __init__(self, cin, growth, bottleneck):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        if bottleneck:
            self.conv1 = conv(cin, 4 * growth, 1)
            self.bn2 = nn.BatchNorm2d(4 * growth)
            self.conv2 = conv(4 * growth, growth, 3, 1, 1)
        else:
            self.conv1 = conv(cin, growth, 3, 1, 1)
        self.bottleneck = bottleneck

    def forward(self, x):
        out = self.conv1(F.relu(self.bn1(x)))
        if self.bottleneck:
            out = self.conv2(F.relu(self.bn2(out)))
        return torch.cat([x, out], 1)


class Transition(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = conv(cin, cout, 1)

    def forward(self, x):
        return F.avg_pool2d(self.conv1(F.relu(self.bn1(x))), 2)


class DenseNet(nn.Module):
    def __init__(self, depth, growth, n_cls, reduction=0.5, bottleneck=True):
        super().__init__()
        n = (depth - 4) // (6 if bottleneck else 3)
        c = 2 * growth
        self.conv1 = conv(3, c, 3, 1, 1)
        for b in range(3):
            layers = []
            for _ in range(n):
                layers.append(DenseLayer(c, growth, bottleneck))
                c += growth
            setattr(self, f'block{b + 1}', Group(layers))
            if b < 2:
                out = int(math.floor(c * reduction))
                setattr(self, f'trans{b + 1}', Transition(c, out))
                c = out
        self.bn1 = nn.BatchNorm2d(c)
        self.fc = nn.Linear(c, n_cls)

    def forward(self, x):
        out = self.trans1(self.block1(self.conv1(x)))
        out = self.block3(self.trans2(self.block2(out)))
        return self.fc(F.adaptive_avg_pool2d(F.relu(self.bn1(out)), 1).flatten(1))


BUILDERS = {
    'simplecnn': lambda: SimpleCNN(1, 10, 28),
    'vgg11': lambda: VGG11(10),
    'resnet18': lambda: ResNet18(10),
    'wrn': lambda: WideResNet(16, 2, 10),
    'densenet': lambda: DenseNet(40, 12, 10),
}

RENAME = {'kernel': 'weight', 'bias': 'bias', 'gamma': 'weight', 'beta': 'bias',
          'moving_mean': 'running_mean', 'moving_variance': 'running_var'}


def to_torch(name, shape, data):
    layer, weight = name.rsplit('/', 1)
    t = torch.tensor(data, dtype=torch.float32).reshape(shape)
    if weight == 'kernel':
        t = t.permute(3, 2, 0, 1) if len(shape) == 4 else t.t()
    return f'{layer}.{RENAME[weight]}', t.contiguous()


def count(model):
    return sum(p.numel() for p in model.parameters())


def main(dump_dir, out_path):
    print('reference parameter counts (CIFAR-10):')
    for label, model in [('VGG11', VGG11(10)), ('ResNet18', ResNet18(10)), ('WRN-28-10', WideResNet(28, 10, 10)),
                         ('WRN-16-4', WideResNet(16, 4, 10)), ('DenseNet-BC-100 k=12', DenseNet(100, 12, 10)),
                         ('DenseNet-40 k=12', DenseNet(40, 12, 10, 1.0, False))]:
        print(f'  {label}: {count(model):,}')
    results = {'torch': torch.__version__, 'models': {}}
    for key, build in BUILDERS.items():
        with open(f'{dump_dir}/{key}/dump.json') as f:
            dump = json.load(f)
        model = build().eval()
        state = dict(to_torch(n, w['shape'], w['data']) for n, w in dump['weights'].items())
        model.load_state_dict(state, strict=True)
        x = torch.tensor(dump['input']['data']).reshape(dump['input']['shape']).permute(0, 3, 1, 2)
        with torch.no_grad():
            logits = model(x).flatten()
        diff = (logits - torch.tensor(dump['tfjsLogits'])).abs().max().item()
        print(f'{key}: {count(model):,} params, max |torch - tfjs| logit = {diff:.2e}')
        results['models'][key] = [round(v, 6) for v in logits.tolist()]
    with open(out_path, 'w') as f:
        json.dump(results, f, indent=1)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
