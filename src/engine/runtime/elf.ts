/**
 * Reads what the runtime's build and its tests need from a 64-bit little-endian ELF file (amd64,
 * arm64): the machine, the program interpreter (PT_INTERP), the libraries it needs and its search
 * paths (DT_NEEDED, DT_RPATH, DT_RUNPATH). Read-only; patchelf does the changes.
 */
import { readFileSync } from 'node:fs';

export interface ElfInfo {
  /** e_machine: 62 x86-64, 183 AArch64. */
  machine: number;
  /** PT_INTERP's path (up to its first NUL); undefined for a library. */
  interpreter?: string;
  needed: string[];
  rpath?: string;
  runpath?: string;
  soname?: string;
}

export const ELF_MACHINE: Record<string, number> = { amd64: 62, arm64: 183 };

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT = { NEEDED: 1, STRTAB: 5, SONAME: 14, RPATH: 15, RUNPATH: 29 };

/** True when the bytes start like an ELF file. */
export function isElf(bytes: Buffer): boolean {
  return bytes.length >= 64 && bytes.readUInt32BE(0) === 0x7f454c46;
}

export function readElf(pathOrBytes: string | Buffer): ElfInfo {
  const b = typeof pathOrBytes === 'string' ? readFileSync(pathOrBytes) : pathOrBytes;
  if (!isElf(b)) throw new Error('not an ELF file');
  if (b[4] !== 2 || b[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
  const machine = b.readUInt16LE(18);
  const phoff = Number(b.readBigUInt64LE(32));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  const loads: { vaddr: number; offset: number; filesz: number }[] = [];
  let interpreter: string | undefined;
  let dynamic: { offset: number; size: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const h = phoff + i * phentsize;
    const type = b.readUInt32LE(h);
    const offset = Number(b.readBigUInt64LE(h + 8));
    const vaddr = Number(b.readBigUInt64LE(h + 16));
    const filesz = Number(b.readBigUInt64LE(h + 32));
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    else if (type === PT_INTERP) interpreter = cString(b, offset);
    else if (type === PT_DYNAMIC) dynamic = { offset, size: filesz };
  }
  const info: ElfInfo = { machine, interpreter, needed: [] };
  if (!dynamic) return info;
  const entries: [number, number][] = [];
  let strtab = 0;
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.size; at += 16) {
    const tag = Number(b.readBigInt64LE(at));
    const value = Number(b.readBigUInt64LE(at + 8));
    if (tag === 0) break;
    if (tag === DT.STRTAB) strtab = value;
    else entries.push([tag, value]);
  }
  // DT_STRTAB is an address: find the file offset through the segment that maps it.
  const load = loads.find((l) => strtab >= l.vaddr && strtab < l.vaddr + l.filesz);
  if (!load) return info;
  const strings = strtab - load.vaddr + load.offset;
  for (const [tag, value] of entries) {
    const text = () => cString(b, strings + value);
    if (tag === DT.NEEDED) info.needed.push(text());
    else if (tag === DT.RPATH) info.rpath = text();
    else if (tag === DT.RUNPATH) info.runpath = text();
    else if (tag === DT.SONAME) info.soname = text();
  }
  return info;
}

function cString(b: Buffer, offset: number): string {
  const end = b.indexOf(0, offset);
  return b.toString('latin1', offset, end < 0 ? b.length : end);
}
