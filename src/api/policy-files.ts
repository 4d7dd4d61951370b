/**
 * Limits on policy files, checked before anything is parsed, so a hostile or mistaken input (a 30 MB file, a FIFO
 * or a device passed as `-f`, 200,000 documents) is refused early, naming the file, in constant memory, instead of
 * blocking on a read that never ends or exhausting the heap in the YAML parser.
 */
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';

export interface PolicyFileLimits {
  fileBytes: number;
  documentsPerFile: number;
}

export const POLICY_FILE_LIMITS: Readonly<PolicyFileLimits> = {
  /** One policy is a few hundred bytes; 4 MiB holds thousands of them. */
  fileBytes: 4 * 1024 * 1024,
  /** YAML documents per file. */
  documentsPerFile: 5_000,
};

export class PolicyFileError extends Error {
  override readonly name = 'PolicyFileError';
  readonly code: 'NotRegularFile' | 'TooLarge' | 'TooManyDocuments' | 'Unreadable';
  readonly file: string;

  constructor(file: string, code: PolicyFileError['code'], message: string, options?: { cause?: unknown }) {
    // The message does not repeat the file: callers print `file: message`.
    super(message, options);
    this.file = file;
    this.code = code;
  }
}

function kindOf(info: Awaited<ReturnType<typeof stat>>): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/**
 * Reads one policy file within the limits. Non-regular files are refused before they are opened (opening a FIFO
 * for reading blocks until someone writes to it); the open itself is non-blocking, and at most the limit plus one
 * byte is ever read, so a file that grows while it is read cannot get past the limit either.
 */
export async function readPolicyFile(
  file: string,
  limits: Readonly<PolicyFileLimits> = POLICY_FILE_LIMITS,
): Promise<string> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch (cause) {
    throw new PolicyFileError(file, 'Unreadable', describeErrno(cause), { cause });
  }
  if (!info.isFile()) {
    throw new PolicyFileError(file, 'NotRegularFile', `is ${kindOf(info)}; policy files must be regular files`);
  }
  if (info.size > limits.fileBytes) {
    throw new PolicyFileError(file, 'TooLarge', tooLarge(info.size, limits.fileBytes));
  }
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (cause) {
    throw new PolicyFileError(file, 'Unreadable', describeErrno(cause), { cause });
  }
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) {
      throw new PolicyFileError(file, 'NotRegularFile', `is ${kindOf(opened)}; policy files must be regular files`);
    }
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, limits.fileBytes + 1 - length));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      // Grown since stat: still never more than the limit plus one byte in memory.
      if (length > limits.fileBytes) throw new PolicyFileError(file, 'TooLarge', tooLarge(length, limits.fileBytes));
    }
    const text = Buffer.concat(chunks, length).toString('utf8');
    checkDocuments(file, text, limits);
    return text;
  } finally {
    await handle.close();
  }
}

/** Counts document starts (`---` at the beginning of a line) without parsing; an upper bound is all it needs. */
export function countDocuments(text: string): number {
  let count = 1;
  let at = text.startsWith('---') ? 3 : 0;
  for (;;) {
    const next = text.indexOf('\n---', at);
    if (next < 0) return count;
    count += 1;
    at = next + 4;
  }
}

function checkDocuments(file: string, text: string, limits: Readonly<PolicyFileLimits>): void {
  const documents = countDocuments(text);
  if (documents > limits.documentsPerFile) {
    throw new PolicyFileError(
      file,
      'TooManyDocuments',
      `holds ${documents} YAML documents; a policy file may hold at most ${limits.documentsPerFile}`,
    );
  }
}

/**
 * Reads a policy stream (stdin: `kustomize build | plan -f -`) within the same limits as a file: at most the limit
 * plus one byte is kept, so an endless or huge stream is refused instead of filling the heap.
 */
export async function readPolicyStream(
  name: string,
  stream: AsyncIterable<unknown>,
  limits: Readonly<PolicyFileLimits> = POLICY_FILE_LIMITS,
): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    length += bytes.length;
    if (length > limits.fileBytes) throw new PolicyFileError(name, 'TooLarge', tooLarge(length, limits.fileBytes));
    chunks.push(bytes);
  }
  const text = Buffer.concat(chunks, length).toString('utf8');
  checkDocuments(name, text, limits);
  return text;
}

function tooLarge(size: number, limit: number): string {
  return `is ${size} bytes; a policy file may have at most ${limit} bytes (${limit / 1024 / 1024} MiB)`;
}

function describeErrno(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}
