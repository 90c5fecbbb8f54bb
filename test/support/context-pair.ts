/**
 * Two context directories for verdict tests: `a` made from a fixture spec and `b` a copy of it (attributes
 * preserved), in a temporary directory made before and removed after each test of the file that calls it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach } from 'vitest';
import { materialize, type FixtureSpec } from './fixture.js';

export interface ContextPair {
  /** The temporary directory holding both. */
  tmp: string;
  A: string;
  B: string;
  /** Materialize the spec as A, copy it to B. */
  make(spec: FixtureSpec): Promise<void>;
}

export function useContextPair(prefix: string): ContextPair {
  const p: ContextPair = {
    tmp: '',
    A: '',
    B: '',
    async make(spec) {
      fs.mkdirSync(p.A);
      await materialize(spec, p.A);
      execFileSync('cp', ['-a', p.A, p.B]);
    },
  };
  beforeEach(() => {
    p.tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    p.A = path.join(p.tmp, 'a');
    p.B = path.join(p.tmp, 'b');
  });
  afterEach(() => fs.rmSync(p.tmp, { recursive: true, force: true }));
  return p;
}
