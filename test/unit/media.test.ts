import { describe, expect, it } from 'vitest';
import { MediaRef } from '../../core/protocol/schema';
import { isAllowedMediaType, isMediaKey, newMediaKey, parseMediaTypes, sanitizeFileName, userKeySegment } from '../../core/domain/media';

describe('sanitizeFileName', () => {
  it.each([
    ['photo.jpg', 'photo.jpg'],
    ['Holiday photo (1).JPG', 'Holiday_photo_1_.JPG'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\me\\report.pdf', 'report.pdf'],
    ['..', 'file'],
    ['.hidden', 'file.hidden'],
    ['-rf', 'rf'],
    ['a...b..png', 'a.b.png'],
    ['', 'file'],
    ['日本語.txt', 'file.txt'],
    ['café.png', 'cafe.png'],
    ['_x.png', 'x.png'],
  ])('turns %j into %j', (input, expected) => {
    expect(sanitizeFileName(input)).toBe(expected);
  });

  it('cuts long names to 100 characters and keeps the extension', () => {
    const name = sanitizeFileName(`${'a'.repeat(300)}.jpeg`);
    expect(name).toHaveLength(100);
    expect(name.endsWith('.jpeg')).toBe(true);
  });
});

describe('media keys', () => {
  it('are unguessable, under the uploader, and accepted by MediaRef and by the download check', () => {
    const a = newMediaKey('dave@example.com', 'x.png');
    const b = newMediaKey('dave@example.com', 'x.png');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^media\/dave!example\.com\/[A-Za-z0-9_-]{22}\/x\.png$/);
    expect(isMediaKey(a)).toBe(true);
    expect(MediaRef.safeParse({ objectKey: a, mimeType: 'image/png', size: 1 }).success).toBe(true);
  });

  it('map user ids one-to-one', () => {
    expect(userKeySegment('a@b')).not.toBe(userKeySegment('a.b'));
    expect(userKeySegment('a-b.c')).toBe('a-b.c');
  });

  it.each(['media/u/../x', 'media/u/AAAAAAAAAAAAAAAAAAAAAA/..', 'media/u/AAAAAAAAAAAAAAAAAAAAAA/.x', 'media/../AAAAAAAAAAAAAAAAAAAAAA/x', 'other/u/AAAAAAAAAAAAAAAAAAAAAA/x', '/media/u/AAAAAAAAAAAAAAAAAAAAAA/x', 'media/u/AAAAAAAAAAAAAAAAAAAAAA/a/b'])(
    'refuse %j',
    (key) => {
      expect(isMediaKey(key)).toBe(false);
    },
  );
});

describe('allowed media types', () => {
  it('match exactly or by family, ignoring case', () => {
    const allowed = parseMediaTypes(' image/* , Application/PDF ');
    expect(allowed).toEqual(['image/*', 'application/pdf']);
    expect(isAllowedMediaType('image/webp', allowed)).toBe(true);
    expect(isAllowedMediaType('APPLICATION/pdf', allowed)).toBe(true);
    expect(isAllowedMediaType('application/zip', allowed)).toBe(false);
    expect(isAllowedMediaType('imagex/png', allowed)).toBe(false);
  });

  it('reject a setting entry that is not a type', () => {
    expect(() => parseMediaTypes('image/png,pdf')).toThrow('"pdf" is not a media type');
    expect(() => parseMediaTypes('*/*')).toThrow();
  });
});
