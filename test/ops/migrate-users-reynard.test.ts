/** migrate-users from a database of the Python Reynard Gatekeeper (its SQLAlchemy table, made by SQL). */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cheapHash, REYNARD_USERS_TABLE, sql } from './fixtures.js';
import { expectNoSecrets, lastLine, logsIn, migrate, useScratch } from './transfer-helpers.js';

const scratch = useScratch();
let tmp: string;
beforeAll(async () => {
  tmp = await scratch.tempDir();
});

// Commands run in-process (runGatekeeper) against a real server: CI machines are slow and shared.
describe('gatekeeper migrate-users from a Python Reynard Gatekeeper database', { timeout: 120_000 }, () => {
  let reynard: string;
  const rows = [
    [
      '11111111-1111-4111-8111-111111111111',
      'fox',
      'F0x-Secret!',
      'admin',
      'fox@example.com',
      7,
      true,
      { den: 'north' },
    ],
    ['22222222-2222-4222-8222-222222222222', 'Wolf', 'W0lf-Secret!', 'regular', null, null, true, null],
    ['33333333-3333-4333-8333-333333333333', 'hare', 'H4re-Secret!', 'UserRole.GUEST', '', 0, true, {}],
    ['44444444-4444-4444-8444-444444444444', 'bear', 'B3ar-Secret!', 'superuser', null, 0, true, {}],
  ] as const;

  beforeAll(async () => {
    reynard = await scratch.emptyDatabase();
    await sql(reynard, REYNARD_USERS_TABLE);
    for (const [id, username, password, role, email, balance, active, metadata] of rows) {
      await sql(
        reynard,
        `INSERT INTO users VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, '2024-02-03 04:05:06.789', '2024-03-04 05:06:07', $8)`,
        [
          id,
          username,
          await cheapHash(password),
          role,
          email,
          balance,
          active,
          metadata === null ? null : JSON.stringify(metadata),
        ],
      );
    }
  });

  it('is detected by its user_metadata column; hashes, ids, times and metadata survive; bad rows are reported', async () => {
    const target = await scratch.emptyDatabase();
    const result = await migrate(reynard, target);
    expect(result.code).toBe(1); // one row has a role Gatekeeper does not know
    expect(result.stdout).toContain('[Reynard layout]');
    expect(lastLine(result)).toBe('copied 3, skipped 0, failed 1');
    expect(result.stderr).toContain('failed: user "bear": role "superuser" is not one of admin, regular, guest');
    expectNoSecrets(result, reynard, target);

    const { rows: copied } = await sql(
      target,
      `SELECT id, username, role, email, yapcoin_balance, metadata,
      created_at::text AS created, updated_at::text AS updated FROM users ORDER BY id`,
    );
    expect(copied).toEqual([
      {
        id: rows[0][0],
        username: 'fox',
        role: 'admin',
        email: 'fox@example.com',
        yapcoin_balance: 7,
        metadata: { den: 'north' },
        created: '2024-02-03 04:05:06.789',
        updated: '2024-03-04 05:06:07',
      },
      {
        id: rows[1][0],
        username: 'Wolf',
        role: 'regular',
        email: null,
        yapcoin_balance: 0,
        metadata: {},
        created: '2024-02-03 04:05:06.789',
        updated: '2024-03-04 05:06:07',
      },
      {
        id: rows[2][0],
        username: 'hare',
        role: 'guest',
        email: null,
        yapcoin_balance: 0,
        metadata: {},
        created: '2024-02-03 04:05:06.789',
        updated: '2024-03-04 05:06:07',
      },
    ]);
    for (const [, username, password] of rows.slice(0, 3)) expect(await logsIn(target, username, password)).toBe(true);
  });

  it('reynard+postgresql:// insists on the Reynard layout', async () => {
    const plain = await scratch.gatekeeperDatabase();
    const wrong = await migrate(`reynard+${plain}`, await scratch.emptyDatabase());
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('has no user_metadata column: not a Reynard Gatekeeper database');
    const right = await migrate(`reynard+${reynard}`, `jsonl:${path.join(tmp, 'reynard.jsonl')}`);
    expect(lastLine(right)).toBe('copied 3, skipped 0, failed 1');
  });
});
