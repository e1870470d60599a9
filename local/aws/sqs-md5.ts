/**
 * SQS's checksums. Clients verify `MD5OfMessageBody`/`MD5OfBody` (the v3 SDK does by
 * default) and may verify `MD5OfMessageAttributes`, so both must match AWS bit for bit.
 */
import { createHash } from 'node:crypto';

/** A message attribute in the SQS wire shape; `BinaryValue` is base64 on the JSON protocol. */
export interface SqsMessageAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
  StringListValues?: string[];
  BinaryListValues?: string[];
}

export function md5Hex(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/**
 * The algorithm from the SQS developer guide ("Calculating the MD5 message digest for
 * message attributes"): attributes sorted by name (byte order of the UTF-8 names), each
 * encoded as length-prefixed name, length-prefixed data type, one transport byte
 * (1 string, 2 binary, 3 string list, 4 binary list) and the length-prefixed value(s).
 * Returns undefined for no attributes, as SQS omits the field then.
 */
export function md5OfMessageAttributes(attributes: Record<string, SqsMessageAttribute> | undefined): string | undefined {
  const names = Object.keys(attributes ?? {});
  if (!attributes || names.length === 0) return undefined;
  names.sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  const parts: Buffer[] = [];
  for (const name of names) {
    const attr = attributes[name];
    parts.push(lengthPrefixed(Buffer.from(name, 'utf8')), lengthPrefixed(Buffer.from(attr.DataType, 'utf8')));
    if (attr.StringValue !== undefined) {
      parts.push(Buffer.from([1]), lengthPrefixed(Buffer.from(attr.StringValue, 'utf8')));
    } else if (attr.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]), lengthPrefixed(Buffer.from(attr.BinaryValue, 'base64')));
    } else if (attr.StringListValues?.length) {
      parts.push(Buffer.from([3]), ...attr.StringListValues.map((v) => lengthPrefixed(Buffer.from(v, 'utf8'))));
    } else if (attr.BinaryListValues?.length) {
      parts.push(Buffer.from([4]), ...attr.BinaryListValues.map((v) => lengthPrefixed(Buffer.from(v, 'base64'))));
    }
  }
  return createHash('md5').update(Buffer.concat(parts)).digest('hex');
}
