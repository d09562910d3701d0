import { describe, expect, it } from 'vitest';
import { frameId, pairFileLists, selectLabelFiles } from '../../src/eval/pairing.ts';
import { UserError } from '../../src/util/errors.ts';

const dirs = { images: 'gen', labels: 'gt', imagesFlag: '--images gen', labelsFlag: '--labels gt' };

describe('frameId', () => {
  it('strips the extension and a Cityscapes suffix', () => {
    expect(frameId('frankfurt/frankfurt_000000_000294_leftImg8bit.png')).toBe('frankfurt_000000_000294');
    expect(frameId('val/frankfurt/frankfurt_000000_000294_gtFine_labelIds.png')).toBe('frankfurt_000000_000294');
    expect(frameId('frankfurt_000000_000294_gtFine_color.png')).toBe('frankfurt_000000_000294');
    expect(frameId('17.jpg')).toBe('17');
  });
});

describe('selectLabelFiles', () => {
  it('keeps only *_gtFine_labelIds from a Cityscapes folder (colour, instance and trainId maps sit beside them)', () => {
    const files = ['a/x_gtFine_color.png', 'a/x_gtFine_labelIds.png', 'a/x_gtFine_instanceIds.png', 'a/x_gtFine_labelTrainIds.png'];
    expect(selectLabelFiles(files, 'labelIds')).toEqual(['a/x_gtFine_labelIds.png']);
    expect(selectLabelFiles(files, 'trainIds')).toEqual(['a/x_gtFine_labelTrainIds.png']);
    expect(selectLabelFiles(['1.png', '2.png'], 'labelIds')).toEqual(['1.png', '2.png']);
  });
});

describe('pairFileLists', () => {
  it('pairs by Cityscapes id across flat and tree layouts, sorted by id', () => {
    const pairs = pairFileLists(
      ['lindau_000001_000019_leftImg8bit.png', 'frankfurt_000000_000294_leftImg8bit.png'],
      ['frankfurt/frankfurt_000000_000294_gtFine_labelIds.png', 'lindau/lindau_000001_000019_gtFine_labelIds.png'],
      dirs,
    );
    expect(pairs).toEqual([
      {
        id: 'frankfurt_000000_000294',
        image: 'gen/frankfurt_000000_000294_leftImg8bit.png',
        label: 'gt/frankfurt/frankfurt_000000_000294_gtFine_labelIds.png',
      },
      { id: 'lindau_000001_000019', image: 'gen/lindau_000001_000019_leftImg8bit.png', label: 'gt/lindau/lindau_000001_000019_gtFine_labelIds.png' },
    ]);
  });

  it('pairs by identical stem otherwise', () => {
    expect(pairFileLists(['1.jpg'], ['1.png'], dirs).map((p) => p.id)).toEqual(['1']);
  });

  it('lists the first unmatched names on both sides in one line', () => {
    const f = () => pairFileLists(['a.png', 'b.png', 'c.png', 'd.png', 'e.png'], ['a.png', 'z.png'], dirs);
    expect(f).toThrow(UserError);
    expect(f).toThrow(
      /^4 of 5 images in --images gen have no label \(b\.png, c\.png, d\.png, …\); 1 of 2 labels in --labels gt have no image \(z\.png\)\. Files pair by Cityscapes id/,
    );
  });

  it('refuses two files with the same frame id and empty folders', () => {
    expect(() => pairFileLists(['x/a.png', 'y/a.png'], ['a.png'], dirs)).toThrow(/Two images in gen have the frame id "a"/);
    expect(() => pairFileLists([], ['a.png'], dirs)).toThrow(/No image files in gen \(--images gen\)/);
  });
});
