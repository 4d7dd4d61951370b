/**
 * Whether a code package can move to another architecture without breaking: the decision over the first bytes of
 * each file of the package (the adapter reads them; nothing here does I/O). Lambda accepts UpdateFunctionCode with
 * any Architectures for any zip, and a native binary built for the other CPU then fails only when it is loaded at
 * invocation, so the controller has to look before it sends.
 */
import type { Architecture } from '../model.ts';

/** Bytes of a file's start needed to tell its ELF machine (e_machine sits at offset 18 in ELF32 and ELF64 alike). */
export const ELF_HEAD_BYTES = 20;

/** ELF e_machine values of the CPUs a Lambda binary could have been built for. */
const MACHINES: Readonly<Record<number, string>> = {
  3: 'i386',
  40: 'arm (32-bit)',
  62: 'x86-64',
  183: 'aarch64',
};

const TARGET_MACHINE: Readonly<Record<Architecture, number>> = { x86_64: 62, arm64: 183 };

export interface ElfHeader {
  machine: number;
  /** Human name of the machine, e.g. `x86-64`, or `machine 0x2b` for one outside the table. */
  machineName: string;
}

/** The ELF header's machine, or undefined when the bytes are not the start of an ELF file. */
export function elfHeaderOf(head: Uint8Array): ElfHeader | undefined {
  if (head.length < ELF_HEAD_BYTES) return undefined;
  if (head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) return undefined;
  // EI_DATA: 1 little-endian, 2 big-endian; anything else is not an ELF file a loader would accept.
  const data = head[5];
  if (data !== 1 && data !== 2) return undefined;
  const lo = head[18] ?? 0;
  const hi = head[19] ?? 0;
  const machine = data === 1 ? lo | (hi << 8) : (lo << 8) | hi;
  return { machine, machineName: MACHINES[machine] ?? `machine 0x${machine.toString(16)}` };
}

/** What the file is, for the message. */
function kindOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  if (base.endsWith('.node')) return 'Node.js native addon';
  if (/\.so(\.\d+)*$/.test(base)) return 'shared object';
  return 'ELF binary';
}

export interface BinaryFinding {
  /** Path inside the package. */
  file: string;
  machineName: string;
  kind: string;
}

/**
 * A finding when the file (path inside the package, and its first bytes: at least ELF_HEAD_BYTES when it has them)
 * is an ELF binary for a CPU other than `target`'s.
 */
export function foreignBinary(name: string, head: Uint8Array, target: Architecture): BinaryFinding | undefined {
  const elf = elfHeaderOf(head);
  if (elf === undefined || elf.machine === TARGET_MACHINE[target]) return undefined;
  return { file: name, machineName: elf.machineName, kind: kindOf(name) };
}

/** Architecture words in paths and file names, as packages that ship one binary per CPU spell them. */
const ARCH_WORD = /(?<![a-z0-9])(x86[_-]64|x64|amd64|arm64|aarch64)(?![a-z0-9])/gi;

/** The path with its architecture words replaced, so x64 and arm64 builds of one library compare equal. */
function archNeutral(name: string): string {
  return name.replace(ARCH_WORD, '{arch}');
}

/**
 * Tracks a package's ELF files as the adapter reads them (in package order) and names the first foreign binary
 * that has no build for the target beside it. A package that ships one build per CPU (sharp-linux-x64.node next to
 * sharp-linux-arm64.node, sqlite-jdbc's Linux/x86_64 and Linux/aarch64 libraries) loads the right one at run time,
 * so only a foreign binary without a target counterpart at the same architecture-neutral path breaks the move.
 */
export class BinaryCensus {
  readonly #target: Architecture;
  readonly #foreign: BinaryFinding[] = [];
  readonly #targetBuilds = new Set<string>();

  constructor(target: Architecture) {
    this.#target = target;
  }

  add(name: string, head: Uint8Array): void {
    const elf = elfHeaderOf(head);
    if (elf === undefined) return;
    if (elf.machine === TARGET_MACHINE[this.#target]) this.#targetBuilds.add(archNeutral(name));
    else this.#foreign.push({ file: name, machineName: elf.machineName, kind: kindOf(name) });
  }

  /** The first foreign binary (package order) without a target build at the same architecture-neutral path. */
  firstUnpaired(): BinaryFinding | undefined {
    return this.#foreign.find((f) => !this.#targetBuilds.has(archNeutral(f.file)));
  }
}

/** The status message for a refused move. */
export function describeForeignBinary(finding: BinaryFinding, target: Architecture): string {
  return `code holds ${finding.file}, a ${finding.kind} built for ${finding.machineName}, which cannot run on ${target}; rebuild the package for ${target} before moving it`;
}
