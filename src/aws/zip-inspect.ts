/**
 * Looks inside a downloaded Zip package before it is re-sent with another architecture: walks the central
 * directory and reads only the first bytes of each file (a stored file's bytes directly, a deflated one's by
 * inflating a short prefix), so the inspection adds no copy of the package and nothing that grows with it beyond
 * the directory itself. The decision (which ELF machine fits which architecture) is the engine's.
 *
 * Written by hand over node:zlib: the project has no zip dependency (the emulator writes its packages by hand too),
 * and what is needed here is a small, bounded subset of the format (directory, local headers, stored/deflate).
 */
import { constants, createInflateRaw, inflateRawSync } from 'node:zlib';
import { BinaryCensus, type BinaryFinding, ELF_HEAD_BYTES } from '../engine/checks/architecture-binaries.ts';
import type { Architecture } from '../engine/model.ts';

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;
/** A short compressed prefix is inflated first: a deflate block header is at most a few hundred bytes. */
const FIRST_PREFIX_BYTES = 1024;
/** Upper bound on what inflating that prefix may produce (deflate expands at most ~1032x). */
const PREFIX_OUTPUT_LIMIT = 2 * 1024 * 1024;

export type ZipVerdict =
  | { kind: 'fits'; files: number }
  | { kind: 'foreign'; finding: BinaryFinding }
  /** The package could not be read far enough to be sure: refused rather than guessed. */
  | { kind: 'unreadable'; reason: string };

class ZipFormatError extends Error {
  override readonly name = 'ZipFormatError';
}

interface CentralEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function view(zip: Uint8Array): DataView {
  return new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
}

function u64(dv: DataView, at: number): number {
  const value = dv.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError('a zip64 size or offset is out of range');
  return Number(value);
}

function findEndOfCentralDirectory(dv: DataView): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  const last = dv.byteLength - 22;
  const first = Math.max(0, last - 0xffff);
  for (let at = last; at >= first; at--) {
    if (dv.getUint32(at, true) === EOCD_SIGNATURE) return at;
  }
  throw new ZipFormatError('no end-of-central-directory record: not a zip file');
}

function centralDirectory(dv: DataView): { offset: number; entries: number } {
  const eocd = findEndOfCentralDirectory(dv);
  let entries = dv.getUint16(eocd + 10, true);
  let offset = dv.getUint32(eocd + 16, true);
  if (entries === 0xffff || offset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || dv.getUint32(locator, true) !== ZIP64_LOCATOR_SIGNATURE) {
      throw new ZipFormatError('zip64 end-of-central-directory locator missing');
    }
    const record = u64(dv, locator + 8);
    if (record + 56 > dv.byteLength || dv.getUint32(record, true) !== ZIP64_EOCD_SIGNATURE) {
      throw new ZipFormatError('zip64 end-of-central-directory record missing');
    }
    entries = u64(dv, record + 32);
    offset = u64(dv, record + 48);
  }
  return { offset, entries };
}

/** Sizes and offset that do not fit 32 bits live in the zip64 extra field (tag 0x0001), in this order. */
function applyZip64Extra(dv: DataView, extraStart: number, extraEnd: number, entry: CentralEntry): void {
  for (let at = extraStart; at + 4 <= extraEnd; ) {
    const tag = dv.getUint16(at, true);
    const length = dv.getUint16(at + 2, true);
    if (tag === 0x0001) {
      let field = at + 4;
      const take = (): number => {
        if (field + 8 > at + 4 + length) throw new ZipFormatError(`zip64 extra field of ${entry.name} is short`);
        const value = u64(dv, field);
        field += 8;
        return value;
      };
      if (entry.size === 0xffffffff) entry.size = take();
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = take();
      if (entry.localOffset === 0xffffffff) entry.localOffset = take();
      return;
    }
    at += 4 + length;
  }
}

function* centralEntries(dv: DataView): Generator<CentralEntry> {
  const { offset, entries } = centralDirectory(dv);
  const decoder = new TextDecoder();
  let at = offset;
  for (let i = 0; i < entries; i++) {
    if (at + 46 > dv.byteLength || dv.getUint32(at, true) !== CENTRAL_SIGNATURE) {
      throw new ZipFormatError(`central directory entry ${i} is malformed`);
    }
    const nameLength = dv.getUint16(at + 28, true);
    const extraLength = dv.getUint16(at + 30, true);
    const commentLength = dv.getUint16(at + 32, true);
    const nameStart = at + 46;
    if (nameStart + nameLength + extraLength > dv.byteLength) {
      throw new ZipFormatError(`central directory entry ${i} runs past the end`);
    }
    const entry: CentralEntry = {
      name: decoder.decode(new Uint8Array(dv.buffer, dv.byteOffset + nameStart, nameLength)),
      flags: dv.getUint16(at + 8, true),
      method: dv.getUint16(at + 10, true),
      compressedSize: dv.getUint32(at + 20, true),
      size: dv.getUint32(at + 24, true),
      localOffset: dv.getUint32(at + 42, true),
    };
    applyZip64Extra(dv, nameStart + nameLength, nameStart + nameLength + extraLength, entry);
    yield entry;
    at = nameStart + nameLength + extraLength + commentLength;
  }
}

/** The entry's compressed bytes, as a view into the package (no copy). */
function entryData(zip: Uint8Array, dv: DataView, entry: CentralEntry): Uint8Array {
  const at = entry.localOffset;
  if (at + 30 > dv.byteLength || dv.getUint32(at, true) !== LOCAL_SIGNATURE) {
    throw new ZipFormatError(`local header of ${entry.name} is missing`);
  }
  const start = at + 30 + dv.getUint16(at + 26, true) + dv.getUint16(at + 28, true);
  const end = start + entry.compressedSize;
  if (end > zip.byteLength) throw new ZipFormatError(`${entry.name} runs past the end of the package`);
  return zip.subarray(start, end);
}

/** The first `n` bytes a deflate stream produces, reading the stream only as far as needed. */
async function inflateHead(compressed: Uint8Array, n: number): Promise<Uint8Array> {
  // Usually enough: inflate a short prefix, flushing what it yields without asking for the stream's end.
  const prefix = compressed.subarray(0, FIRST_PREFIX_BYTES);
  const quick = inflateRawSync(prefix, {
    finishFlush: constants.Z_SYNC_FLUSH,
    maxOutputLength: PREFIX_OUTPUT_LIMIT,
  });
  if (quick.length >= n || prefix.length === compressed.length) return quick.subarray(0, n);
  // A long block header (or a tiny first block): stream the rest, stopping at the first n bytes.
  return new Promise((resolve, reject) => {
    const inflate = createInflateRaw({ chunkSize: 16 * 1024 });
    const parts: Buffer[] = [];
    let have = 0;
    const done = () => resolve(new Uint8Array(Buffer.concat(parts)).subarray(0, n));
    inflate.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      have += chunk.length;
      if (have >= n) {
        inflate.destroy();
        done();
      }
    });
    inflate.on('end', done);
    inflate.on('error', reject);
    inflate.end(compressed);
  });
}

/**
 * Inspects every file of the package, in central-directory order, and names the first ELF binary for another CPU
 * than `target`'s that has no build for the target beside it. Encrypted files and compression methods other than
 * stored/deflate cannot be looked into: the package is then `unreadable` (a move that cannot be checked is not made).
 */
export async function inspectZipForArchitecture(zip: Uint8Array, target: Architecture): Promise<ZipVerdict> {
  try {
    const dv = view(zip);
    const census = new BinaryCensus(target);
    let files = 0;
    for (const entry of centralEntries(dv)) {
      if (entry.name.endsWith('/')) continue;
      files++;
      // Shorter than an ELF header: cannot be a binary.
      if (entry.size < ELF_HEAD_BYTES) continue;
      if ((entry.flags & 0x1) !== 0) return { kind: 'unreadable', reason: `${entry.name} is encrypted` };
      let head: Uint8Array;
      if (entry.method === STORED) head = entryData(zip, dv, entry).subarray(0, ELF_HEAD_BYTES);
      else if (entry.method === DEFLATED) head = await inflateHead(entryData(zip, dv, entry), ELF_HEAD_BYTES);
      else {
        return { kind: 'unreadable', reason: `${entry.name} uses compression method ${entry.method}` };
      }
      census.add(entry.name, head);
    }
    const finding = census.firstUnpaired();
    return finding === undefined ? { kind: 'fits', files } : { kind: 'foreign', finding };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { kind: 'unreadable', reason };
  }
}
