/**
 * The RDS Data API's translation between its JSON and PostgreSQL, as pure functions:
 * named parameters in, `Field`s and column metadata out. Behaviours copied from Aurora
 * PostgreSQL, because code that works here must work there:
 *
 * - A parameter is typed by its value, not inferred from the statement: `stringValue` is
 *   `varchar`, so putting one into a `jsonb`, `uuid` or `timestamptz` column fails exactly
 *   as on Aurora ("column … is of type jsonb but expression is of type character varying")
 *   until the caller adds the `typeHint`. `longValue` is `int8`, `doubleValue` `float8`.
 * - `TIMESTAMP`, `DATE` and `TIME` hints accept only `YYYY-MM-DD HH:MM:SS[.FFF]`,
 *   `YYYY-MM-DD` and `HH:MM:SS[.FFF]`; an ISO string with `T`/`Z` is rejected, as Aurora does.
 * - `timestamptz` comes back in UTC without an offset; other date/time, numeric, uuid and
 *   json values come back as PostgreSQL prints them, in `stringValue`.
 */

/** A value in the Data API's JSON (`Field`); `blobValue` is base64 on the wire. */
export interface Field {
  isNull?: boolean;
  booleanValue?: boolean;
  longValue?: number;
  doubleValue?: number;
  stringValue?: string;
  blobValue?: string;
  arrayValue?: ArrayValue;
}

export interface ArrayValue {
  booleanValues?: (boolean | null)[];
  longValues?: (number | null)[];
  doubleValues?: (number | null)[];
  stringValues?: (string | null)[];
  arrayValues?: ArrayValue[];
}

export interface SqlParameter {
  name?: string;
  value?: Field;
  typeHint?: string;
}

export interface ResultSetOptions {
  decimalReturnType?: 'STRING' | 'DOUBLE_OR_LONG';
  longReturnType?: 'STRING' | 'LONG';
}

export interface ColumnMetadata {
  name: string;
  type: number;
  typeName: string;
  label: string;
  schemaName: string;
  tableName: string;
  isAutoIncrement: boolean;
  isSigned: boolean;
  isCurrency: boolean;
  isCaseSensitive: boolean;
  nullable: number;
  precision: number;
  scale: number;
  arrayBaseColumnType: number;
}

/** A problem with the request itself (not the SQL), answered as `BadRequestException`. */
export class DataApiRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataApiRequestError';
  }
}

// ---------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------

const HINT_TYPES: Record<string, string> = {
  JSON: 'jsonb',
  TIMESTAMP: 'timestamp',
  DATE: 'date',
  TIME: 'time',
  DECIMAL: 'numeric',
  UUID: 'uuid',
};

const HINT_FORMATS: Record<string, { pattern: RegExp; name: string }> = {
  TIMESTAMP: { pattern: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/, name: 'TimeStamp' },
  DATE: { pattern: /^\d{4}-\d{2}-\d{2}$/, name: 'Date' },
  TIME: { pattern: /^\d{2}:\d{2}:\d{2}(\.\d{1,9})?$/, name: 'Time' },
};

interface BoundValue {
  readonly value: string | null;
  /** PostgreSQL type the placeholder is cast to; none leaves it to inference (typeless nulls). */
  readonly cast?: string;
}

function bindValue(param: SqlParameter): BoundValue {
  const field = param.value;
  const hint = param.typeHint;
  if (hint !== undefined && !(hint in HINT_TYPES)) {
    throw new DataApiRequestError(`Invalid typeHint ${hint}; expected one of ${Object.keys(HINT_TYPES).join(', ')}`);
  }
  if (!field || typeof field !== 'object') throw new DataApiRequestError(`Parameter ${param.name} has no value`);
  if (field.isNull) return { value: null, cast: hint ? HINT_TYPES[hint] : undefined };
  if (typeof field.stringValue === 'string') {
    if (!hint) return { value: field.stringValue, cast: 'varchar' };
    const format = HINT_FORMATS[hint];
    if (format && !format.pattern.test(field.stringValue)) {
      throw new DataApiRequestError(`Parse Error for ${format.name}: input contains invalid characters`);
    }
    return { value: field.stringValue, cast: HINT_TYPES[hint] };
  }
  if (typeof field.longValue === 'number') return { value: String(field.longValue), cast: 'int8' };
  if (typeof field.doubleValue === 'number') return { value: String(field.doubleValue), cast: 'float8' };
  if (typeof field.booleanValue === 'boolean') return { value: String(field.booleanValue), cast: 'bool' };
  if (typeof field.blobValue === 'string') return { value: `\\x${Buffer.from(field.blobValue, 'base64').toString('hex')}`, cast: 'bytea' };
  if (field.arrayValue !== undefined) throw new DataApiRequestError('Array parameters are not supported.');
  throw new DataApiRequestError(`Parameter ${param.name} has no value`);
}

/**
 * Rewrites `:name` placeholders to `$n` (cast to the parameter's type) and lists the
 * values in order. Leaves `::type` casts, string literals (including `E''` and dollar
 * quoting), quoted identifiers and comments alone; a `:word` with no parameter of that
 * name is left as written, for PostgreSQL to reject.
 */
export function bindParameters(sql: string, parameters: readonly SqlParameter[] = []): { text: string; values: (string | null)[] } {
  const byName = new Map<string, SqlParameter>();
  for (const p of parameters) {
    if (typeof p?.name !== 'string' || p.name === '') throw new DataApiRequestError('Every parameter needs a name');
    byName.set(p.name, p);
  }
  const positions = new Map<string, number>();
  const values: (string | null)[] = [];
  let out = '';
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      // PostgreSQL block comments nest.
      let depth = 0;
      let j = i;
      do {
        if (sql.startsWith('/*', j)) {
          depth++;
          j += 2;
        } else if (sql.startsWith('*/', j)) {
          depth--;
          j += 2;
        } else j++;
      } while (depth > 0 && j < n);
      out += sql.slice(i, j);
      i = j;
    } else if (c === "'") {
      const escapes = /[eE]/.test(sql[i - 1] ?? '') && !/[A-Za-z0-9_$]/.test(sql[i - 2] ?? '');
      let j = i + 1;
      while (j < n) {
        if (escapes && sql[j] === '\\') j += 2;
        else if (sql[j] === "'" && sql[j + 1] === "'") j += 2;
        else if (sql[j] === "'") break;
        else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '"') {
      let j = i + 1;
      while (j < n && !(sql[j] === '"' && sql[j + 1] !== '"')) j += sql[j] === '"' ? 2 : 1;
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '$' && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64))?.[0];
      if (!tag) {
        out += c;
        i++;
        continue;
      }
      const close = sql.indexOf(tag, i + tag.length);
      const stop = close === -1 ? n : close + tag.length;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === ':' && next === ':') {
      out += '::';
      i += 2;
    } else if (c === ':' && /[A-Za-z_]/.test(next ?? '')) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))![0];
      const param = byName.get(name);
      if (!param) {
        out += `:${name}`;
      } else {
        let position = positions.get(name);
        const bound = bindValue(param);
        if (position === undefined) {
          values.push(bound.value);
          position = values.length;
          positions.set(name, position);
        }
        out += bound.cast ? `($${position}::${bound.cast})` : `$${position}`;
      }
      i += name.length + 1;
    } else {
      out += c;
      i++;
    }
  }
  return { text: out, values };
}

// ---------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------

/** PostgreSQL type OIDs → type name, JDBC type code and precision, as the PostgreSQL JDBC driver reports them (Aurora's Data API is built on it). */
const TYPES: Record<number, { name: string; jdbc: number; precision: number; signed?: boolean; caseSensitive?: boolean }> = {
  16: { name: 'bool', jdbc: -7, precision: 1 },
  17: { name: 'bytea', jdbc: -2, precision: 2147483647 },
  18: { name: 'char', jdbc: 1, precision: 1, caseSensitive: true },
  19: { name: 'name', jdbc: 12, precision: 2147483647, caseSensitive: true },
  20: { name: 'int8', jdbc: -5, precision: 19, signed: true },
  21: { name: 'int2', jdbc: 5, precision: 5, signed: true },
  23: { name: 'int4', jdbc: 4, precision: 10, signed: true },
  25: { name: 'text', jdbc: 12, precision: 2147483647, caseSensitive: true },
  26: { name: 'oid', jdbc: -5, precision: 10 },
  114: { name: 'json', jdbc: 1111, precision: 2147483647, caseSensitive: true },
  700: { name: 'float4', jdbc: 7, precision: 8, signed: true },
  701: { name: 'float8', jdbc: 8, precision: 17, signed: true },
  790: { name: 'money', jdbc: 8, precision: 0, signed: true },
  1042: { name: 'bpchar', jdbc: 1, precision: 2147483647, caseSensitive: true },
  1043: { name: 'varchar', jdbc: 12, precision: 2147483647, caseSensitive: true },
  1082: { name: 'date', jdbc: 91, precision: 13 },
  1083: { name: 'time', jdbc: 92, precision: 15 },
  1114: { name: 'timestamp', jdbc: 93, precision: 29 },
  1184: { name: 'timestamptz', jdbc: 93, precision: 35 },
  1186: { name: 'interval', jdbc: 1111, precision: 49 },
  1266: { name: 'timetz', jdbc: 92, precision: 21 },
  1700: { name: 'numeric', jdbc: 2, precision: 0, signed: true },
  2950: { name: 'uuid', jdbc: 1111, precision: 2147483647 },
  3802: { name: 'jsonb', jdbc: 1111, precision: 2147483647, caseSensitive: true },
};

/** Array type OID → element type OID, for the array types the Data API maps to `arrayValue`. */
const ARRAY_ELEMENTS: Record<number, number> = {
  1000: 16, 1005: 21, 1007: 23, 1016: 20, 1021: 700, 1022: 701, 1231: 1700, 1009: 25, 1015: 1043, 1014: 1042,
  2951: 2950, 199: 114, 3807: 3802, 1115: 1114, 1185: 1184, 1182: 1082, 1183: 1083, 1001: 17,
};

const LONG_TYPES = new Set([20, 21, 23, 26]);
const DOUBLE_TYPES = new Set([700, 701]);

/** Type names for OIDs outside the table (enums, domains, extension types), looked up by the caller. */
export function knownTypeName(oid: number): string | undefined {
  return TYPES[oid]?.name ?? (ARRAY_ELEMENTS[oid] !== undefined ? `_${TYPES[ARRAY_ELEMENTS[oid]].name}` : undefined);
}

function scalar(text: string, oid: number, options: ResultSetOptions): Field {
  if (LONG_TYPES.has(oid)) return options.longReturnType === 'STRING' ? { stringValue: text } : { longValue: Number(text) };
  if (DOUBLE_TYPES.has(oid)) return { doubleValue: Number(text) };
  if (oid === 16) return { booleanValue: text === 't' || text === 'true' };
  if (oid === 17) return { blobValue: Buffer.from(text.startsWith('\\x') ? text.slice(2) : text, 'hex').toString('base64') };
  if (oid === 1700 && options.decimalReturnType === 'DOUBLE_OR_LONG') {
    return /^-?\d+$/.test(text) ? { longValue: Number(text) } : { doubleValue: Number(text) };
  }
  // The session runs in UTC, so the offset is always +00; Aurora leaves it out.
  if (oid === 1184) return { stringValue: text.replace(/[+-]\d{2}(:\d{2}){0,2}$/, '') };
  return { stringValue: text };
}

/** Splits PostgreSQL's text form of an array (`{1,2,NULL}`, `{{"a b",c}}`) into nested lists of element texts. */
export function parseArrayLiteral(text: string): unknown[] {
  let i = text.indexOf('{');
  const parse = (): unknown[] => {
    const items: unknown[] = [];
    i++; // past '{'
    while (i < text.length && text[i] !== '}') {
      if (text[i] === '{') {
        items.push(parse());
      } else if (text[i] === '"') {
        let value = '';
        i++;
        while (text[i] !== '"') {
          if (text[i] === '\\') i++;
          value += text[i++];
        }
        i++;
        items.push(value);
      } else {
        let j = i;
        while (j < text.length && text[j] !== ',' && text[j] !== '}') j++;
        const raw = text.slice(i, j).trim();
        items.push(raw === 'NULL' ? null : raw);
        i = j;
      }
      if (text[i] === ',') i++;
    }
    i++; // past '}'
    return items;
  };
  return i === -1 ? [] : parse();
}

function arrayValue(items: unknown[], elementOid: number, options: ResultSetOptions): ArrayValue {
  if (items.some(Array.isArray)) return { arrayValues: items.map((x) => arrayValue(Array.isArray(x) ? x : [x], elementOid, options)) };
  const fields = items.map((x) => (x === null ? null : scalar(x as string, elementOid, options)));
  const pick = <K extends keyof Field>(key: K) => fields.map((f) => (f === null ? null : (f[key] as NonNullable<Field[K]>)));
  if (fields.some((f) => f?.longValue !== undefined)) return { longValues: pick('longValue') as (number | null)[] };
  if (fields.some((f) => f?.doubleValue !== undefined)) return { doubleValues: pick('doubleValue') as (number | null)[] };
  if (fields.some((f) => f?.booleanValue !== undefined)) return { booleanValues: pick('booleanValue') as (boolean | null)[] };
  if (elementOid === 16) return { booleanValues: [] };
  if (LONG_TYPES.has(elementOid) && options.longReturnType !== 'STRING') return { longValues: [] };
  if (DOUBLE_TYPES.has(elementOid)) return { doubleValues: [] };
  return { stringValues: fields.map((f) => (f === null ? null : (f.stringValue ?? f.blobValue ?? null))) };
}

/** One column value, from PostgreSQL's text form, as the Data API returns it. */
export function toField(text: string | null, oid: number, options: ResultSetOptions = {}): Field {
  if (text === null) return { isNull: true };
  const element = ARRAY_ELEMENTS[oid];
  if (element !== undefined) return { arrayValue: arrayValue(parseArrayLiteral(text), element, options) };
  return scalar(text, oid, options);
}

export function columnMetadata(name: string, oid: number, typeName: string): ColumnMetadata {
  const known = TYPES[oid];
  const isArray = ARRAY_ELEMENTS[oid] !== undefined;
  return {
    name,
    label: name,
    type: isArray ? 2003 : (known?.jdbc ?? 1111),
    typeName,
    schemaName: '',
    tableName: '',
    isAutoIncrement: false,
    isSigned: known?.signed ?? false,
    isCurrency: oid === 790,
    isCaseSensitive: known?.caseSensitive ?? false,
    // columnNullableUnknown: telling it would need the column's table, which not every engine reports.
    nullable: 2,
    precision: known?.precision ?? 2147483647,
    scale: 0,
    arrayBaseColumnType: isArray ? (TYPES[ARRAY_ELEMENTS[oid]]?.jdbc ?? 0) : 0,
  };
}

function plain(field: Field): unknown {
  if (field.isNull) return null;
  if (field.arrayValue) return plainArray(field.arrayValue);
  return field.longValue ?? field.doubleValue ?? field.booleanValue ?? field.stringValue ?? field.blobValue ?? null;
}

function plainArray(value: ArrayValue): unknown[] {
  return value.arrayValues?.map(plainArray) ?? value.longValues ?? value.doubleValues ?? value.booleanValues ?? value.stringValues ?? [];
}

/** `formattedRecords`: the rows as a JSON array of objects keyed by column name (a later duplicate name wins). */
export function formatRecords(columns: readonly string[], records: readonly Field[][]): string {
  return JSON.stringify(records.map((row) => Object.fromEntries(row.map((field, i) => [columns[i], plain(field)]))));
}
