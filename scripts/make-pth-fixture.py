#!/usr/bin/env python3
"""Writes the fixtures of test/import/: small pix2pix U-Net generators built exactly like the PyTorch
repo's `UnetGenerator` / `UnetSkipConnectionBlock` (same module tree, so the same state_dict keys),
saved with torch.save, plus the outputs PyTorch computes for a fixed input.

Run with: /usr/bin/python3 scripts/make-pth-fixture.py [out_dir]   (needs torch; ~1 s)

The input is not stored: both sides compute it from `fixture_input` below (exact in float32).
Outputs are raw little-endian float32, NCHW, batch 1:
  unet32-batch.pth         zip format, depth 5 (32x32 input), ngf 2, batch norm, 3 -> 3
  unet32-batch.train.bin   test.py without --eval: batch statistics (BN train mode), dropout off
  unet32-batch.eval.bin    test.py --eval: running statistics, no dropout
  unet64-instance-legacy.pth  legacy (non-zip) format, depth 6 (64x64), ngf 1, instance norm,
                              1 -> 1 channel, with the repo's Dropout module in its middle block
  unet64-instance-legacy.out.bin  its output (instance norm: train and eval agree), dropout off
  unet64-instance-half.pth the same state_dict with float16 storages (HalfStorage), zip format
  bn-deflated.pth          a BatchNorm2d(2) state_dict re-zipped with deflate (as a zip tool would),
                           weight [1.5, -2], bias [0.25, 0], running_mean [0, 0], running_var [1, 1]
  evil.pth                 a pickle whose loading would call os.system (the importer must refuse it)
  unet-keys.json           key -> shape of unet_256 and unet_128 state_dicts (ngf 1, batch norm)
"""
import functools
import json
import os
import sys
import zipfile

import torch
import torch.nn as nn


class UnetSkipConnectionBlock(nn.Module):
    """The PyTorch repo's block (models/networks.py), verbatim in structure."""

    def __init__(self, outer_nc, inner_nc, input_nc=None, submodule=None, outermost=False,
                 innermost=False, norm_layer=nn.BatchNorm2d, use_dropout=False):
        super().__init__()
        self.outermost = outermost
        if type(norm_layer) == functools.partial:
            use_bias = norm_layer.func == nn.InstanceNorm2d
        else:
            use_bias = norm_layer == nn.InstanceNorm2d
        if input_nc is None:
            input_nc = outer_nc
        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
        downrelu = nn.LeakyReLU(0.2, True)
        downnorm = norm_layer(inner_nc)
        uprelu = nn.ReLU(True)
        upnorm = norm_layer(outer_nc)
        if outermost:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1)
            model = [downconv] + [submodule] + [uprelu, upconv, nn.Tanh()]
        elif innermost:
            upconv = nn.ConvTranspose2d(inner_nc, outer_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
            model = [downrelu, downconv] + [uprelu, upconv, upnorm]
        else:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
            model = [downrelu, downconv, downnorm] + [submodule] + [uprelu, upconv, upnorm]
            if use_dropout:
                model = model + [nn.Dropout(0.5)]
        self.model = nn.Sequential(*model)

    def forward(self, x):
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, num_downs, ngf=64, norm_layer=nn.BatchNorm2d, use_dropout=False):
        super().__init__()
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=None, norm_layer=norm_layer, innermost=True)
        for _ in range(num_downs - 5):
            block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block, norm_layer=norm_layer, use_dropout=use_dropout)
        block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, submodule=block, norm_layer=norm_layer)
        block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, submodule=block, norm_layer=norm_layer)
        block = UnetSkipConnectionBlock(ngf, ngf * 2, submodule=block, norm_layer=norm_layer)
        self.model = UnetSkipConnectionBlock(output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True, norm_layer=norm_layer)

    def forward(self, x):
        return self.model(x)


def norm_layer(kind):
    if kind == 'batch':
        return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)


def fixture_input(channels, side):
    """x[c,h,w] = ((7c + 13h + 29w) mod 64) / 32 - 1: multiples of 1/32, exact in float32."""
    c = torch.arange(channels).view(channels, 1, 1)
    h = torch.arange(side).view(1, side, 1)
    w = torch.arange(side).view(1, 1, side)
    return (((7 * c + 13 * h + 29 * w) % 64).float() / 32 - 1).unsqueeze(0)


def randomize(net, gen):
    """Non-trivial biases, BN affine and running statistics (default conv init is kept)."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and m.bias is not None:
                m.bias.uniform_(-0.2, 0.2, generator=gen)
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.uniform_(-0.5, 0.5, generator=gen)


def dropout_off(net):
    for m in net.modules():
        if isinstance(m, nn.Dropout):
            m.eval()


class Evil:
    """Unpickling this with Python's pickle would run a shell command (it is never loaded here)."""

    def __reduce__(self):
        return (os.system, ('echo this pickle ran code',))


def write_f32(path, t):
    t.detach().contiguous().numpy().astype('<f4').tofile(path)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'test', 'import', 'fixtures')
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(1234)
    gen = torch.Generator().manual_seed(99)

    # Batch norm, zip format, with running statistics from a few training-mode passes.
    net = UnetGenerator(3, 3, 5, ngf=2, norm_layer=norm_layer('batch'), use_dropout=True)
    randomize(net, gen)
    net.train()
    with torch.no_grad():
        for _ in range(5):
            net(torch.rand(1, 3, 32, 32, generator=gen) * 2 - 1)
    sd = net.state_dict()
    torch.save(sd, os.path.join(out, 'unet32-batch.pth'))
    x = fixture_input(3, 32)
    with torch.no_grad():
        net.eval()
        write_f32(os.path.join(out, 'unet32-batch.eval.bin'), net(x))
        net.train()
        dropout_off(net)
        write_f32(os.path.join(out, 'unet32-batch.train.bin'), net(x.clone()))

    # Instance norm (biases everywhere, no norm tensors), legacy format, one Dropout-carrying middle block.
    net = UnetGenerator(1, 1, 6, ngf=1, norm_layer=norm_layer('instance'), use_dropout=True)
    randomize(net, gen)
    sd = net.state_dict()
    torch.save(sd, os.path.join(out, 'unet64-instance-legacy.pth'), _use_new_zipfile_serialization=False)
    torch.save({k: v.half() for k, v in sd.items()}, os.path.join(out, 'unet64-instance-half.pth'))
    net.train()
    dropout_off(net)
    with torch.no_grad():
        write_f32(os.path.join(out, 'unet64-instance-legacy.out.bin'), net(fixture_input(1, 64)))

    bn = nn.BatchNorm2d(2)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1.5, -2.0]))
        bn.bias.copy_(torch.tensor([0.25, 0.0]))
    stored = os.path.join(out, 'bn-stored.tmp')
    torch.save(bn.state_dict(), stored)
    with zipfile.ZipFile(stored) as src, zipfile.ZipFile(os.path.join(out, 'bn-deflated.pth'), 'w', zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    os.remove(stored)

    torch.save({'model.model.0.weight': Evil()}, os.path.join(out, 'evil.pth'))

    keys = {}
    for name, downs in (('unet_256', 8), ('unet_128', 7)):
        g = UnetGenerator(3, 3, downs, ngf=1, norm_layer=norm_layer('batch'), use_dropout=True)
        keys[name] = [[k, list(v.shape)] for k, v in g.state_dict().items()]
    with open(os.path.join(out, 'unet-keys.json'), 'w') as f:
        json.dump(keys, f, separators=(',', ':'))
        f.write('\n')
    print(f'fixtures written to {out}')


if __name__ == '__main__':
    main()
