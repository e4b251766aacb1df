// The default storage of the package: an embedded PostgreSQL in a data directory of your choice.
// Run: node library/embedded.mjs
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createGatekeeper } from '@reynard/gatekeeper';

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatekeeper-example-'));
try {
  const gatekeeper = await createGatekeeper({ database: { embedded: { dataDir } }, logger: false });
  try {
    await gatekeeper.service.register({ username: 'erin', password: 'Sup3r-Secret!' });
    const health = await gatekeeper.app.inject({ method: 'GET', url: '/health' });
    assert.equal(health.json().backend, 'embedded-postgres');
  } finally {
    await gatekeeper.close();
  }
  // The users are still there after a restart on the same directory.
  const again = await createGatekeeper({ database: { embedded: { dataDir } }, logger: false });
  try {
    assert.ok((await again.service.login('erin', 'Sup3r-Secret!')).accessToken);
  } finally {
    await again.close();
  }
  console.log('library (embedded PostgreSQL): ok');
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
