/**
 * Free space and the fill file of disk-fill. The file lives in the directory it fills and its
 * name carries the fault's tag, so removal and `faultline recover` delete exactly it.
 */
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';

export interface Space {
  /** Bytes an unprivileged writer may still use (what `df` calls Avail). */
  available: number;
  /** Size of the file system. */
  total: number;
  blockSize: number;
}

export async function space(dir: string): Promise<Space> {
  const st = await statfs(dir);
  return { available: st.bavail * st.bsize, total: st.blocks * st.bsize, blockSize: st.bsize };
}

export function fillFile(dir: string, tag: string): string {
  return join(dir, `.faultline-fill-${tag}`);
}
