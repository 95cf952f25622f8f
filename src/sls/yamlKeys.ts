/**
 * A mapping key as Salt's YAML loader loads it (salt/utils/yamlloader.py over PyYAML's YAML 1.1 resolver):
 * what it compares keys by, so that `on:` and `true:` are one key (both True, and so is `1:`) while `1:`
 * and `"1":` are two, and how Salt's message names it (`found conflicting ID 'True'`). The `yaml` package
 * resolves some plain scalars otherwise (`y` is a boolean there, a string for PyYAML), so this reads the
 * source text as PyYAML does.
 */
import { isScalar } from 'yaml';

export interface LoadedKey {
  /** Equal for keys Python's dict holds as one (True == 1 == 1.0). */
  identity: string;
  /** The key as Python's str() prints it: Salt's message names it so. */
  name: string;
}

const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const FLOAT = /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const NULL = /^(?:~|null|Null|NULL|)$/;
const TIMESTAMP = /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$/;
const STR_TAGS = new Set(['tag:yaml.org,2002:str', '!!str']);

const numberKey = (value: bigint | number, name: string): LoadedKey => {
  // PyYAML makes every .nan the one float object, so a dict holds two as one key.
  if (typeof value === 'number' && Number.isNaN(value)) return { identity: 'n:nan', name: 'nan' };
  const fits = typeof value === 'number' || (value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER));
  return { identity: `n:${fits ? String(Number(value)) : value.toString()}`, name };
};

/** Base-60 digits (`1:30` is 90), as PyYAML reads them. */
const sexagesimal = (digits: string): number => digits.split(':').reduce((sum, part) => sum * 60 + Number(part), 0);

/** PyYAML's int, after Salt's loader drops the leading zeros of an unsigned `010` (read as 10, not 8). */
function loadInt(text: string): bigint | number {
  let value = text;
  if (value !== '0' && value.startsWith('0') && !value.startsWith('0b') && !value.startsWith('0x')) value = value.replace(/^0+/, '') || '0';
  value = value.replace(/_/g, '');
  let sign = 1n;
  if (value[0] === '-') sign = -1n;
  if (value[0] === '-' || value[0] === '+') value = value.slice(1);
  if (value === '0' || value === '') return 0n;
  if (value.startsWith('0b')) return sign * BigInt(value);
  if (value.startsWith('0x')) return sign * BigInt(value);
  if (value[0] === '0') return sign * BigInt(`0o${value.slice(1)}`);
  if (value.includes(':')) return Number(sign) * sexagesimal(value);
  return sign * BigInt(value);
}

function loadFloat(text: string): number {
  let value = text.replace(/_/g, '').toLowerCase();
  let sign = 1;
  if (value[0] === '-') sign = -1;
  if (value[0] === '-' || value[0] === '+') value = value.slice(1);
  if (value === '.inf') return sign * Infinity;
  if (value === '.nan') return NaN;
  if (value.includes(':')) return sign * sexagesimal(value);
  return sign * Number(value);
}

const pythonFloat = (value: number): string => (Number.isNaN(value) ? 'nan' : Number.isFinite(value) ? (Number.isInteger(value) && Math.abs(value) < 1e16 ? `${value}.0` : String(value)) : value > 0 ? 'inf' : '-inf');

/**
 * The key a scalar node loads as; undefined for what is not compared: a merge key (`<<`), a key with a tag
 * other than `!!str`, and anything that is not a scalar.
 */
export function loadedKey(node: unknown): LoadedKey | undefined {
  if (!isScalar(node)) return undefined;
  const plain = node.type === 'PLAIN' || node.type === undefined;
  const text = plain ? (node.source ?? (node.value == null ? '' : String(node.value))) : String(node.value ?? '');
  if (node.tag) return STR_TAGS.has(node.tag) ? { identity: `s:${text}`, name: text } : undefined;
  if (!plain) return { identity: `s:${text}`, name: text };
  if (text === '<<') return undefined;
  if (BOOL.test(text)) {
    const value = /^(?:yes|true|on)$/i.test(text);
    return { identity: `n:${value ? 1 : 0}`, name: value ? 'True' : 'False' };
  }
  if (FLOAT.test(text)) {
    const value = loadFloat(text);
    return numberKey(value, pythonFloat(value));
  }
  if (INT.test(text)) {
    const value = loadInt(text);
    return numberKey(value, String(value));
  }
  if (NULL.test(text)) return { identity: 'null', name: 'None' };
  if (TIMESTAMP.test(text)) return { identity: `t:${text}`, name: text };
  return { identity: `s:${text}`, name: text };
}
