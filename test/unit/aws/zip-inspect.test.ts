import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inspectZipForArchitecture } from '../../../src/aws/zip-inspect.ts';
import { buildZip } from '../../../src/emulator/zip.ts';
import { describeForeignBinary, elfHeaderOf, foreignBinary } from '../../../src/engine/checks/architecture-binaries.ts';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../fixtures/zips/${name}`, import.meta.url)));

/** An ELF64 header with the given e_machine, then filler. */
function elf(machine: number, size = 256, bigEndian = false): Buffer {
  const b = Buffer.alloc(size, 0x5a);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, bigEndian ? 2 : 1, 1], 0);
  if (bigEndian) b.writeUInt16BE(machine, 18);
  else b.writeUInt16LE(machine, 18);
  return b;
}

/** A one-entry zip around already-deflated bytes (method 8), as buildZip cannot write arbitrary deflate streams. */
function oneEntryZip(name: string, compressed: Buffer, size: number): Uint8Array {
  const nameBytes = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(compressed.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(compressed.length, 20);
  central.writeUInt32LE(size, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + nameBytes.length, 12);
  end.writeUInt32LE(local.length + nameBytes.length + compressed.length, 16);
  return new Uint8Array(Buffer.concat([local, nameBytes, compressed, central, nameBytes, end]));
}

describe('ELF headers', () => {
  it.each([
    [62, false, 'x86-64'],
    [183, false, 'aarch64'],
    [3, false, 'i386'],
    [40, true, 'arm (32-bit)'],
    [0x2b, false, 'machine 0x2b'],
  ])('reads e_machine %i (big-endian %s) as %s', (machine, bigEndian, name) => {
    expect(elfHeaderOf(elf(machine, 64, bigEndian))).toEqual({ machine, machineName: name });
  });

  it('is not fooled by text, a short file or a broken EI_DATA byte', () => {
    expect(elfHeaderOf(Buffer.from('#!/bin/sh\necho hello from a script\n'))).toBeUndefined();
    expect(elfHeaderOf(elf(62).subarray(0, 19))).toBeUndefined();
    const broken = elf(62);
    broken[5] = 7;
    expect(elfHeaderOf(broken)).toBeUndefined();
  });

  it('names the kind of file and the machine in the refusal', () => {
    const finding = foreignBinary('node_modules/x/build/Release/x.node', elf(62), 'arm64');
    expect(finding).toEqual({
      file: 'node_modules/x/build/Release/x.node',
      machineName: 'x86-64',
      kind: 'Node.js native addon',
    });
    expect(foreignBinary('lib/libz.so.1.3', elf(183), 'x86_64')?.kind).toBe('shared object');
    expect(foreignBinary('bootstrap', elf(183), 'arm64')).toBeUndefined();
    expect(describeForeignBinary(finding ?? { file: '', machineName: '', kind: '' }, 'arm64')).toContain(
      'node_modules/x/build/Release/x.node, a Node.js native addon built for x86-64, which cannot run on arm64',
    );
  });
});

describe('inspectZipForArchitecture', () => {
  it('names the first x86-64 addon of a deflated package (written by Python zipfile) for arm64', async () => {
    expect(await inspectZipForArchitecture(fixture('x64-addon.zip'), 'arm64')).toEqual({
      kind: 'foreign',
      finding: {
        file: 'node_modules/sharp/build/Release/sharp-linux-x64.node',
        machineName: 'x86-64',
        kind: 'Node.js native addon',
      },
    });
    // The same package is fine where it already runs.
    expect(await inspectZipForArchitecture(fixture('x64-addon.zip'), 'x86_64')).toEqual({ kind: 'fits', files: 4 });
  });

  it('lets a pure-JS package move either way', async () => {
    expect(await inspectZipForArchitecture(fixture('pure-js.zip'), 'arm64')).toEqual({ kind: 'fits', files: 3 });
    expect(await inspectZipForArchitecture(fixture('pure-js.zip'), 'x86_64')).toEqual({ kind: 'fits', files: 3 });
  });

  it('reads zip64 entries and stored entries, and finds binaries that are neither .node nor .so', async () => {
    expect(await inspectZipForArchitecture(fixture('arm64-addon-zip64.zip'), 'arm64')).toEqual({
      kind: 'fits',
      files: 2,
    });
    expect(await inspectZipForArchitecture(fixture('arm64-addon-zip64.zip'), 'x86_64')).toMatchObject({
      kind: 'foreign',
      finding: { file: 'bin/bootstrap', machineName: 'aarch64', kind: 'ELF binary' },
    });
    expect(await inspectZipForArchitecture(fixture('x64-bootstrap-stored.zip'), 'arm64')).toMatchObject({
      kind: 'foreign',
      finding: { file: 'bootstrap' },
    });
  });

  it('streams further when the first kilobyte of deflate data yields no header yet', async () => {
    // 400 empty stored blocks (5 bytes each, no output) are valid deflate: 2 KB in before the first byte comes out.
    const empty = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);
    const content = elf(62, 4096);
    const compressed = Buffer.concat([...Array.from({ length: 400 }, () => empty), deflateRawSync(content)]);
    const zip = oneEntryZip('lib/native.so', compressed, content.length);
    expect(await inspectZipForArchitecture(zip, 'arm64')).toMatchObject({
      kind: 'foreign',
      finding: { file: 'lib/native.so' },
    });
  });

  it('moves a package that ships a build for each CPU, and names a foreign binary without a target build', async () => {
    const perCpu = buildZip([
      { name: 'node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64.node', content: elf(62), compress: true },
      { name: 'node_modules/@img/sharp-linux-arm64/lib/sharp-linux-arm64.node', content: elf(183), compress: true },
      { name: 'org/sqlite/native/Linux/x86_64/libsqlitejdbc.so', content: elf(62) },
      { name: 'org/sqlite/native/Linux/aarch64/libsqlitejdbc.so', content: elf(183) },
    ]);
    expect(await inspectZipForArchitecture(perCpu, 'arm64')).toEqual({ kind: 'fits', files: 4 });
    expect(await inspectZipForArchitecture(perCpu, 'x86_64')).toEqual({ kind: 'fits', files: 4 });

    const unrelated = buildZip([
      { name: 'bin/helper-arm64', content: elf(183) },
      { name: 'lib/libcrypto-x64.so', content: elf(62) },
      { name: 'lib/libz.so.1', content: elf(62) },
    ]);
    expect(await inspectZipForArchitecture(unrelated, 'arm64')).toMatchObject({
      kind: 'foreign',
      finding: { file: 'lib/libcrypto-x64.so', kind: 'shared object' },
    });
  });

  it('refuses what it cannot look into instead of guessing', async () => {
    expect(await inspectZipForArchitecture(new Uint8Array(Buffer.from('not a zip at all')), 'arm64')).toMatchObject({
      kind: 'unreadable',
    });
    const zip = Buffer.from(buildZip([{ name: 'a.bin', content: elf(62) }]));
    // Compression method 12 (bzip2) in the central directory entry.
    const central = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    zip.writeUInt16LE(12, central + 10);
    expect(await inspectZipForArchitecture(zip, 'arm64')).toEqual({
      kind: 'unreadable',
      reason: 'a.bin uses compression method 12',
    });
    const truncated = fixture('x64-addon.zip').subarray(0, 400);
    expect((await inspectZipForArchitecture(truncated, 'arm64')).kind).toBe('unreadable');
  });
});
