/** Feeding bytes to a reader in chosen chunkings, replayable from a seed. */
import { mulberry32 } from '../../cli/generate.ts';

export { mulberry32 };

/** Splits bytes into chunks of one size. */
export function fixedChunks(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.slice(i, i + size));
  return out;
}

/** Splits bytes into seeded random chunks of 1 to `max` bytes. */
export function randomChunks(bytes: Uint8Array, seed: number, max: number): Uint8Array[] {
  const random = mulberry32(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; ) {
    const size = 1 + Math.floor(random() * max);
    out.push(bytes.slice(i, i + size));
    i += size;
  }
  return out;
}

/** The chunks as a stream. */
export async function* fromChunks(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}
