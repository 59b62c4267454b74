// Host prerequisites of the image tests. Under CI=true a missing prerequisite fails the test that needs it;
// elsewhere that test is skipped, with the reason in its title.
import { spawnSync } from 'node:child_process';
import { it } from 'vitest';

export const IN_CI = process.env.CI === 'true';

/** null when `command` runs on this host, else what to install. */
export function missingTool(command: string, debianPackage: string): string | null {
  const result = spawnSync(command, ['--version'], { stdio: 'ignore' });
  return result.error ? `${command} is not installed (apt-get install ${debianPackage})` : null;
}

/**
 * `it`, unless a prerequisite is missing (`missing` is the first non-null reason): then outside CI the test is
 * skipped and says why, and under CI it runs only to fail with that reason.
 */
export function itWhen(missing: readonly (string | null)[], name: string, body: () => void | Promise<void>, timeoutMs?: number): void {
  const reason = missing.find((item): item is string => item !== null);
  if (reason === undefined) it(name, body, timeoutMs);
  else if (IN_CI) it(name, () => { throw new Error(`CI=true and ${reason}`); });
  else it.skip(`${name} (skipped: ${reason})`, body);
}
