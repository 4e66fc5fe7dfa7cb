import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface DistroFixture {
  distro: string;
  /** File in test/fixtures/updatedb-conf/ that the distro installs as /etc/updatedb.conf. */
  file: string;
  /** False when the file is the closest verified stand-in, not the distro's own (see the README). */
  verified: boolean;
  implementation: 'plocate' | 'mlocate';
}

/** The default /etc/updatedb.conf of each supported distribution (provenance: fixtures README). */
export const DISTRO_FIXTURES: readonly DistroFixture[] = [
  { distro: 'Debian 12', file: 'debian-plocate.conf', verified: true, implementation: 'plocate' },
  { distro: 'Ubuntu 22.04', file: 'debian-plocate.conf', verified: false, implementation: 'plocate' },
  { distro: 'Ubuntu 24.04', file: 'debian-plocate.conf', verified: false, implementation: 'plocate' },
  { distro: 'Amazon Linux 2', file: 'rhel7-mlocate.conf', verified: false, implementation: 'mlocate' },
  { distro: 'RHEL 8', file: 'rhel8-mlocate.conf', verified: true, implementation: 'mlocate' },
  { distro: 'RHEL 9', file: 'rhel9-mlocate.conf', verified: true, implementation: 'mlocate' },
];

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/updatedb-conf/', import.meta.url));

export function readFixture(file: string): string {
  return readFileSync(`${FIXTURE_DIR}${file}`, 'utf8');
}
