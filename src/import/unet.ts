/**
 * A PyTorch pix2pix `UnetGenerator` state_dict → our GeneratorArch and its parameters (tfjs layout,
 * the layout every ParamSource uses), with the architecture read off the key names and shapes.
 *
 * The PyTorch repo nests one UnetSkipConnectionBlock per level; each block's layers live in an
 * nn.Sequential called `model`. The outermost block keeps its sub-block at index 1 and every middle
 * block at index 3, so level k's layers are under S_1 = `model.model`, S_2 = `model.model.1.model`,
 * S_{k+1} = `S_k.3.model`:
 *   outermost  S_1: 0 = Conv (e1), 1 = sub-block, 2 = ReLU, 3 = ConvTranspose (d_depth, bias), 4 = Tanh
 *   middle     S_k: 0 = LeakyReLU, 1 = Conv (e_k), 2 = norm, 3 = sub-block, 4 = ReLU, 5 = ConvTranspose
 *                   (d_{depth−k+1}), 6 = norm, [7 = Dropout(0.5) on the (depth − 5) innermost middle blocks]
 *   innermost  S_depth: 0 = LeakyReLU, 1 = Conv (e_depth), 2 = ReLU, 3 = ConvTranspose (d1), 4 = norm
 * BatchNorm layers own weight/bias/running_mean/running_var/num_batches_tracked; InstanceNorm
 * (affine=False) owns nothing, and then every conv has a bias.
 */
import { UserError } from '../util/errors.ts';
import { type GeneratorArch, generatorArch, paramSpecs } from '../nets/arch.ts';
import { type StateDict, type TorchTensor, tensorToFloat32 } from './pytorch.ts';

export interface ImportedUNet {
  arch: GeneratorArch;
  /** Our parameter names (e1.weight, d3.gamma, …) → values in tfjs layout. */
  params: Map<string, Float32Array>;
  /** Storage dtypes found (float32, float16, …), for the log. */
  dtypes: string[];
  tensorCount: number;
  /** Number of stored parameter values (weights, biases, BN affine and statistics). */
  values: number;
}

/** PyTorch weight [A, B, kh, kw] (Conv: out,in; ConvTranspose: in,out) → tfjs [kh, kw, B, A]. */
export function torchToTfjsWeight(w: Float32Array, shape: readonly number[]): Float32Array {
  const [a, b, kh, kw] = shape as [number, number, number, number];
  const out = new Float32Array(w.length);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) out[((y * kw + x) * b + j) * a + i] = w[((i * b + j) * kh + y) * kw + x];
      }
    }
  }
  return out;
}

/** Drop DataParallel's `module.` prefix when every key has it (checkpoints saved from a wrapped net). */
function stripModulePrefix(sd: StateDict): StateDict {
  const keys = [...sd.keys()];
  if (keys.length === 0 || !keys.every((k) => k.startsWith('module.'))) return sd;
  return new Map([...sd].map(([k, v]) => [k.slice('module.'.length), v]));
}

function notAUNet(sd: StateDict): never {
  const keys = [...sd.keys()];
  const conv7 = sd.get('model.1.weight');
  if (conv7 && conv7.shape.length === 4 && conv7.shape[2] === 7) {
    throw new UserError(
      'this is a ResnetGenerator checkpoint (resnet_6blocks/resnet_9blocks, e.g. CycleGAN); only U-Net generators (unet_128, unet_256, …) can be imported',
    );
  }
  throw new UserError(
    `not a pix2pix U-Net generator state_dict: no key model.model.0.weight (first keys: ${keys.slice(0, 3).join(', ') || 'none'}); pass the generator file (latest_net_G.pth), not the discriminator's`,
  );
}

/** The nn.Sequential prefix of every level, outermost first. */
function levelPrefixes(sd: StateDict): string[] {
  const levels = ['model.model'];
  let s = 'model.model.1.model';
  for (;;) {
    if (!sd.has(`${s}.1.weight`)) throw new UserError(`not a pix2pix U-Net state_dict: level ${levels.length + 1} has no ${s}.1.weight`);
    levels.push(s);
    if (sd.has(`${s}.3.weight`)) return levels; // innermost: its ConvTranspose sits at index 3
    s = `${s}.3.model`;
    if (levels.length > 12) throw new UserError('not a pix2pix U-Net state_dict: more than 12 nested levels');
  }
}

/** Map our layer names to the PyTorch module that holds them: conv and norm prefixes. */
function layerModules(levels: readonly string[]): Map<string, { conv: string; norm?: string }> {
  const depth = levels.length;
  const m = new Map<string, { conv: string; norm?: string }>();
  m.set('e1', { conv: `${levels[0]}.0` });
  m.set(`d${depth}`, { conv: `${levels[0]}.3` });
  for (let k = 2; k <= depth; k++) {
    const s = levels[k - 1];
    const j = depth - k + 1; // decoder index of this level's up-convolution
    if (k === depth) {
      m.set(`e${k}`, { conv: `${s}.1` });
      m.set(`d${j}`, { conv: `${s}.3`, norm: `${s}.4` });
    } else {
      m.set(`e${k}`, { conv: `${s}.1`, norm: `${s}.2` });
      m.set(`d${j}`, { conv: `${s}.5`, norm: `${s}.6` });
    }
  }
  return m;
}

function shapeString(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/**
 * Read a pix2pix UnetGenerator state_dict: depth from the nesting, ngf and channels from e1 and the
 * last ConvTranspose, norm from the presence of BatchNorm parameters. Every tensor must be used and
 * every shape must match the architecture those imply, else a one-line error says which key.
 */
export function importUNet(stateDict: StateDict): ImportedUNet {
  const sd = stripModulePrefix(stateDict);
  const e1 = sd.get('model.model.0.weight');
  if (!e1) notAUNet(sd);
  const levels = levelPrefixes(sd);
  const depth = levels.length;
  const last = sd.get(`${levels[0]}.3.weight`);
  if (e1.shape.length !== 4 || !last || last.shape.length !== 4)
    throw new UserError('not a pix2pix U-Net state_dict: the outermost convolutions are missing or not 4-D');
  const norm = sd.has(`${levels[1]}.2.weight`) ? 'batch' : 'instance';
  const arch = generatorArch({
    kind: 'unet',
    depth,
    ngf: e1.shape[0],
    inChannels: e1.shape[1],
    outChannels: last.shape[1],
    norm,
    dropout: 'pytorch',
    concatOrder: 'skip-first',
    bias: 'pytorch',
  });
  const modules = layerModules(levels);
  const used = new Set<string>();
  const take = (key: string, expected: readonly number[]): { t: TorchTensor; v: Float32Array } => {
    const t = sd.get(key);
    if (!t) throw new UserError(`missing tensor ${key} for a ${norm}-norm unet_${2 ** depth} with ngf ${arch.options.ngf}`);
    if (shapeString(t.shape) !== shapeString(expected)) {
      throw new UserError(
        `tensor ${key} has shape ${shapeString(t.shape)}, expected ${shapeString(expected)} for a ${norm}-norm unet_${2 ** depth} with ngf ${arch.options.ngf} (a non-standard channel plan is not supported)`,
      );
    }
    used.add(key);
    return { t, v: tensorToFloat32(t) };
  };

  const params = new Map<string, Float32Array>();
  const layers = new Map([...arch.encoder, ...arch.decoder].map((l) => [l.name, l]));
  for (const p of paramSpecs(arch)) {
    const [layerName, role] = p.name.split('.') as [string, string];
    const l = layers.get(layerName)!;
    const mod = modules.get(layerName)!;
    if (role === 'weight') {
      const k = l.kernel;
      const torchShape = l.transposed ? [l.inChannels, l.outChannels, k, k] : [l.outChannels, l.inChannels, k, k];
      params.set(p.name, torchToTfjsWeight(take(`${mod.conv}.weight`, torchShape).v, torchShape));
    } else if (role === 'bias') {
      params.set(p.name, take(`${mod.conv}.bias`, [l.outChannels]).v);
    } else {
      const torchName = role === 'gamma' ? 'weight' : role === 'beta' ? 'bias' : role;
      params.set(p.name, take(`${mod.norm}.${torchName}`, [l.outChannels]).v);
    }
  }

  const dtypes = new Set<string>();
  let values = 0;
  for (const [key, t] of sd) {
    if (used.has(key)) {
      dtypes.add(t.dtype);
      values += t.numel;
      continue;
    }
    // BatchNorm's step counter carries no numbers the forward pass uses; 2018-era InstanceNorm kept
    // running statistics that the PyTorch repo itself drops when loading.
    if (key.endsWith('.num_batches_tracked')) continue;
    if (norm === 'instance' && /\.(running_mean|running_var)$/.test(key)) continue;
    throw new UserError(
      `unexpected tensor ${key} ${shapeString(t.shape)} in a ${norm}-norm unet_${2 ** depth} state_dict: this does not look like a pix2pix UnetGenerator`,
    );
  }
  return { arch, params, dtypes: [...dtypes].sort(), tensorCount: used.size, values };
}
