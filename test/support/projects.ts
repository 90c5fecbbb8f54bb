/** Temporary copies of the fixture projects (fixtures/projects/NAME), for tests that change them. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { materialize, type FixtureSpec } from './fixture.js';

export const PROJECTS = path.resolve(import.meta.dirname, '../../fixtures/projects');

/**
 * A maker of temporary copies of a fixture project (or of an empty directory, for `null`) plus what git
 * cannot store; every copy is removed after the test file's tests. Call it at a test file's top level.
 */
export function projectCopies(prefix: string): (name: string | null, extra?: FixtureSpec) => Promise<string> {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  return async (name, extra = {}) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    dirs.push(dir);
    if (name) fs.cpSync(path.join(PROJECTS, name), dir, { recursive: true });
    await materialize(extra, dir);
    return dir;
  };
}
