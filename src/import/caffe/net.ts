/**
 * A deploy `.prototxt` → the network's inputs and layers, in either format Caffe reads: current
 * `layer { type: "Convolution" … }` or legacy V1 `layers { type: CONVOLUTION … }` (V1 type names
 * are mapped to the current ones as Caffe's upgrade_proto does). Inputs come from `Input` layers or
 * from the net-level `input:` with `input_dim:` (4 per input) or `input_shape { dim }`.
 * Layers that only run in the TRAIN phase (`include { phase: TRAIN }`) are left out, as Caffe does
 * when it builds a TEST net.
 */
import { UserError } from '../../util/errors.ts';
import { caffeRoot, V1_TYPE_NAMES } from './caffe-proto.ts';
import { child, children, numbers, parsePrototxt, str, strings, type TextMessage } from './prototxt.ts';

export interface CaffeLayerDef {
  name: string;
  type: string;
  bottoms: string[];
  tops: string[];
  /** The whole layer message (its `*_param` children hold the settings). */
  msg: TextMessage;
}

export interface CaffeNetDef {
  name: string;
  format: 'layer' | 'layers (V1)';
  inputs: { name: string; shape: number[] }[];
  layers: CaffeLayerDef[];
}

const V1_ENUM = caffeRoot.lookupEnum('caffe.V1LayerParameter.LayerType').values as Record<string, number>;

function v1TypeName(ident: string): string {
  const v = V1_ENUM[ident];
  return v !== undefined ? (V1_TYPE_NAMES.get(v) ?? ident) : ident;
}

function inTestPhase(layer: TextMessage): boolean {
  const phases = (rules: TextMessage[]): string[] => rules.flatMap((r) => strings(r, 'phase'));
  const include = children(layer, 'include');
  if (include.length && !phases(include).includes('TEST') && phases(include).length === include.length) return false;
  return !phases(children(layer, 'exclude')).includes('TEST');
}

/** Parse a deploy prototxt's text; `file` names it in errors. */
export function parseCaffeNet(text: string, file: string): CaffeNetDef {
  const net = parsePrototxt(text, file);
  const v2 = children(net, 'layer');
  const v1 = children(net, 'layers');
  if (v2.length && v1.length) throw new UserError(`${file}: mixes 'layer' and legacy 'layers' entries; Caffe accepts one format per net`);
  const format = v1.length ? 'layers (V1)' : 'layer';
  const inputs: CaffeNetDef['inputs'] = [];

  const netInputs = strings(net, 'input');
  const dims = numbers(net, 'input_dim', file);
  const shapes = children(net, 'input_shape');
  netInputs.forEach((name, i) => {
    const shape = shapes[i] ? numbers(shapes[i], 'dim', file) : dims.slice(4 * i, 4 * i + 4);
    if (shape.length === 0) throw new UserError(`${file}: input "${name}" has no shape; give input_dim (4 numbers) or input_shape { dim … }`);
    inputs.push({ name, shape });
  });

  const layers: CaffeLayerDef[] = [];
  for (const msg of v1.length ? v1 : v2) {
    const name = str(msg, 'name') ?? `layer${layers.length}`;
    const rawType = str(msg, 'type');
    if (rawType === undefined) throw new UserError(`${file}: layer "${name}" has no type`);
    const type = v1.length ? v1TypeName(rawType) : rawType;
    if (!inTestPhase(msg)) continue;
    const l: CaffeLayerDef = { name, type, bottoms: strings(msg, 'bottom'), tops: strings(msg, 'top'), msg };
    if (type === 'Input') {
      const ps = children(child(msg, 'input_param'), 'shape');
      l.tops.forEach((t, i) => {
        const s = ps[i] ?? ps[0];
        if (!s) throw new UserError(`${file}: Input layer "${name}" has no input_param { shape { dim … } }`);
        inputs.push({ name: t, shape: numbers(s, 'dim', file) });
      });
      continue;
    }
    layers.push(l);
  }
  if (inputs.length === 0) throw new UserError(`${file}: the net has no input (an Input layer, or input: with input_dim / input_shape)`);
  return { name: str(net, 'name') ?? 'caffe', format, inputs, layers };
}
