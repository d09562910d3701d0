/**
 * The subset of Caffe's `caffe.proto` (BVLC/caffe, proto2) that describes the networks this importer
 * converts, as a protobufjs reflection schema. Field numbers and enum values are the official ones,
 * so `.caffemodel` files written by any Caffe read with it, and tests encode their own small
 * caffemodels with it (in both the current `layer` and the legacy V1 `layers` form).
 *
 * Reading a real caffemodel does not decode whole messages with this schema: its float data runs
 * to hundreds of MB, so caffemodel.ts walks the wire format itself and only records where the
 * weights are (see there). The schema decodes the small parts (blob shapes) and writes test models.
 */
import protobuf from 'protobufjs';

const filler = { fields: { type: { type: 'string', id: 1 }, value: { type: 'float', id: 2 }, std: { type: 'float', id: 6 } } };

const SCHEMA = {
  nested: {
    caffe: {
      nested: {
        BlobShape: { fields: { dim: { rule: 'repeated', type: 'int64', id: 1, options: { packed: true } } } },
        BlobProto: {
          fields: {
            shape: { type: 'BlobShape', id: 7 },
            data: { rule: 'repeated', type: 'float', id: 5, options: { packed: true } },
            diff: { rule: 'repeated', type: 'float', id: 6, options: { packed: true } },
            doubleData: { rule: 'repeated', type: 'double', id: 8, options: { packed: true } },
            doubleDiff: { rule: 'repeated', type: 'double', id: 9, options: { packed: true } },
            num: { type: 'int32', id: 1 },
            channels: { type: 'int32', id: 2 },
            height: { type: 'int32', id: 3 },
            width: { type: 'int32', id: 4 },
          },
        },
        NetParameter: {
          fields: {
            name: { type: 'string', id: 1 },
            input: { rule: 'repeated', type: 'string', id: 3 },
            inputShape: { rule: 'repeated', type: 'BlobShape', id: 8 },
            inputDim: { rule: 'repeated', type: 'int32', id: 4 },
            layer: { rule: 'repeated', type: 'LayerParameter', id: 100 },
            layers: { rule: 'repeated', type: 'V1LayerParameter', id: 2 },
          },
        },
        FillerParameter: filler,
        ConvolutionParameter: {
          fields: {
            numOutput: { type: 'uint32', id: 1 },
            biasTerm: { type: 'bool', id: 2, options: { default: true } },
            pad: { rule: 'repeated', type: 'uint32', id: 3 },
            kernelSize: { rule: 'repeated', type: 'uint32', id: 4 },
            stride: { rule: 'repeated', type: 'uint32', id: 6 },
            dilation: { rule: 'repeated', type: 'uint32', id: 18 },
            padH: { type: 'uint32', id: 9 },
            padW: { type: 'uint32', id: 10 },
            kernelH: { type: 'uint32', id: 11 },
            kernelW: { type: 'uint32', id: 12 },
            strideH: { type: 'uint32', id: 13 },
            strideW: { type: 'uint32', id: 14 },
            group: { type: 'uint32', id: 5, options: { default: 1 } },
            weightFiller: { type: 'FillerParameter', id: 7 },
            biasFiller: { type: 'FillerParameter', id: 8 },
          },
        },
        PoolingParameter: {
          fields: {
            pool: { type: 'PoolMethod', id: 1 },
            pad: { type: 'uint32', id: 4 },
            padH: { type: 'uint32', id: 9 },
            padW: { type: 'uint32', id: 10 },
            kernelSize: { type: 'uint32', id: 2 },
            kernelH: { type: 'uint32', id: 5 },
            kernelW: { type: 'uint32', id: 6 },
            stride: { type: 'uint32', id: 3, options: { default: 1 } },
            strideH: { type: 'uint32', id: 7 },
            strideW: { type: 'uint32', id: 8 },
            globalPooling: { type: 'bool', id: 12 },
            roundMode: { type: 'RoundMode', id: 13 },
          },
          nested: { PoolMethod: { values: { MAX: 0, AVE: 1, STOCHASTIC: 2 } }, RoundMode: { values: { CEIL: 0, FLOOR: 1 } } },
        },
        CropParameter: { fields: { axis: { type: 'int32', id: 1, options: { default: 2 } }, offset: { rule: 'repeated', type: 'uint32', id: 2 } } },
        EltwiseParameter: {
          fields: { operation: { type: 'EltwiseOp', id: 1, options: { default: 'SUM' } }, coeff: { rule: 'repeated', type: 'float', id: 2 } },
          nested: { EltwiseOp: { values: { PROD: 0, SUM: 1, MAX: 2 } } },
        },
        ReLUParameter: { fields: { negativeSlope: { type: 'float', id: 1 } } },
        SoftmaxParameter: { fields: { axis: { type: 'int32', id: 2, options: { default: 1 } } } },
        ConcatParameter: { fields: { axis: { type: 'int32', id: 2, options: { default: 1 } }, concatDim: { type: 'uint32', id: 1 } } },
        DropoutParameter: { fields: { dropoutRatio: { type: 'float', id: 1 } } },
        InputParameter: { fields: { shape: { rule: 'repeated', type: 'BlobShape', id: 1 } } },
        ParamSpec: { fields: { name: { type: 'string', id: 1 }, lrMult: { type: 'float', id: 3 }, decayMult: { type: 'float', id: 4 } } },
        LayerParameter: {
          fields: {
            name: { type: 'string', id: 1 },
            type: { type: 'string', id: 2 },
            bottom: { rule: 'repeated', type: 'string', id: 3 },
            top: { rule: 'repeated', type: 'string', id: 4 },
            param: { rule: 'repeated', type: 'ParamSpec', id: 6 },
            blobs: { rule: 'repeated', type: 'BlobProto', id: 7 },
            concatParam: { type: 'ConcatParameter', id: 104 },
            convolutionParam: { type: 'ConvolutionParameter', id: 106 },
            cropParam: { type: 'CropParameter', id: 144 },
            dropoutParam: { type: 'DropoutParameter', id: 108 },
            eltwiseParam: { type: 'EltwiseParameter', id: 110 },
            inputParam: { type: 'InputParameter', id: 143 },
            poolingParam: { type: 'PoolingParameter', id: 121 },
            reluParam: { type: 'ReLUParameter', id: 123 },
            softmaxParam: { type: 'SoftmaxParameter', id: 125 },
          },
        },
        V1LayerParameter: {
          fields: {
            bottom: { rule: 'repeated', type: 'string', id: 2 },
            top: { rule: 'repeated', type: 'string', id: 3 },
            name: { type: 'string', id: 4 },
            type: { type: 'LayerType', id: 5 },
            blobs: { rule: 'repeated', type: 'BlobProto', id: 6 },
            concatParam: { type: 'ConcatParameter', id: 9 },
            convolutionParam: { type: 'ConvolutionParameter', id: 10 },
            dropoutParam: { type: 'DropoutParameter', id: 12 },
            eltwiseParam: { type: 'EltwiseParameter', id: 24 },
            poolingParam: { type: 'PoolingParameter', id: 19 },
            reluParam: { type: 'ReLUParameter', id: 30 },
            softmaxParam: { type: 'SoftmaxParameter', id: 39 },
          },
          nested: {
            LayerType: {
              values: {
                NONE: 0, ABSVAL: 35, ACCURACY: 1, ARGMAX: 30, BNLL: 2, CONCAT: 3, CONTRASTIVE_LOSS: 37, CONVOLUTION: 4, DATA: 5,
                DECONVOLUTION: 39, DROPOUT: 6, DUMMY_DATA: 32, EUCLIDEAN_LOSS: 7, ELTWISE: 25, EXP: 38, FLATTEN: 8, HDF5_DATA: 9,
                HDF5_OUTPUT: 10, HINGE_LOSS: 28, IM2COL: 11, IMAGE_DATA: 12, INFOGAIN_LOSS: 13, INNER_PRODUCT: 14, LRN: 15,
                MEMORY_DATA: 29, MULTINOMIAL_LOGISTIC_LOSS: 16, MVN: 34, POOLING: 17, POWER: 26, RELU: 18, SIGMOID: 19,
                SIGMOID_CROSS_ENTROPY_LOSS: 27, SILENCE: 36, SOFTMAX: 20, SOFTMAX_LOSS: 21, SPLIT: 22, SLICE: 33, TANH: 23,
                WINDOW_DATA: 24, THRESHOLD: 31,
              },
            },
          },
        },
      },
    },
  },
};

export const caffeRoot = protobuf.Root.fromJSON(SCHEMA);
export const NetParameterType = caffeRoot.lookupType('caffe.NetParameter');
export const BlobShapeType = caffeRoot.lookupType('caffe.BlobShape');

/** V1 layer type enum value → the V2 type string Caffe's upgrade_proto maps it to. */
export const V1_TYPE_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries({
    CONCAT: 'Concat', CONVOLUTION: 'Convolution', DECONVOLUTION: 'Deconvolution', DROPOUT: 'Dropout', ELTWISE: 'Eltwise',
    POOLING: 'Pooling', RELU: 'ReLU', SOFTMAX: 'Softmax', SPLIT: 'Split', INNER_PRODUCT: 'InnerProduct', DATA: 'Data',
    SOFTMAX_LOSS: 'SoftmaxWithLoss', ACCURACY: 'Accuracy', LRN: 'LRN', SIGMOID: 'Sigmoid', TANH: 'TanH', ABSVAL: 'AbsVal',
    ARGMAX: 'ArgMax', BNLL: 'BNLL', FLATTEN: 'Flatten', POWER: 'Power', SLICE: 'Slice', SILENCE: 'Silence', EXP: 'Exp',
    THRESHOLD: 'Threshold', MVN: 'MVN', IMAGE_DATA: 'ImageData', MEMORY_DATA: 'MemoryData', DUMMY_DATA: 'DummyData',
    HDF5_DATA: 'HDF5Data', HDF5_OUTPUT: 'HDF5Output', WINDOW_DATA: 'WindowData', IM2COL: 'Im2col', EUCLIDEAN_LOSS: 'EuclideanLoss',
    HINGE_LOSS: 'HingeLoss', INFOGAIN_LOSS: 'InfogainLoss', MULTINOMIAL_LOGISTIC_LOSS: 'MultinomialLogisticLoss',
    SIGMOID_CROSS_ENTROPY_LOSS: 'SigmoidCrossEntropyLoss', CONTRASTIVE_LOSS: 'ContrastiveLoss', NONE: 'None',
  }).map(([k, v]) => [(caffeRoot.lookupEnum('caffe.V1LayerParameter.LayerType').values as Record<string, number>)[k]!, v]),
);
