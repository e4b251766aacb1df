/**
 * JSON Lines files of users (`export`, `import`, `jsonl:` endpoints): one user per
 * line with every column, password_hash included. Such a file is as sensitive as
 * the database: it is written with mode 0600, to a temporary name first and renamed
 * at the end, so a run that fails leaves the previous file (or none) in place.
 */
import { constants, createReadStream } from 'node:fs';
import { access, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { planUserBatch, type ExistingUser } from '../../store/user-batch-plan.js';
import type { UserRecord } from '../../store/store.js';
import { OperationProblem } from '../../store/postgres/operation-problem.js';
import type { SourceBatch, UserSink, UserSource } from './copy-users.js';
import { rowToUser, userToLine } from './user-rows.js';

/** Reads a JSON Lines file; a line that is not a valid user is reported with its number, never its text. */
export async function openJsonlSource(file: string): Promise<UserSource> {
  await access(file, constants.R_OK).catch((err: NodeJS.ErrnoException) => {
    throw new OperationProblem(`cannot read ${file} (${err.code ?? 'unreadable'})`);
  });
  return {
    description: `JSON Lines file ${file}`,
    async count() {
      let lines = 0;
      for await (const line of readLines(file)) if (line.trim() !== '') lines += 1;
      return lines;
    },
    async *batches(size) {
      let batch: SourceBatch = { users: [], rejected: [] };
      let number = 0;
      const now = new Date();
      for await (const line of readLines(file)) {
        number += 1;
        if (batch.users.length + batch.rejected.length >= size) {
          yield batch;
          batch = { users: [], rejected: [] };
        }
        if (line.trim() === '') continue;
        let raw: unknown;
        try {
          raw = JSON.parse(line);
        } catch {
          batch.rejected.push({ label: `line ${number}`, reason: 'not valid JSON' });
          continue;
        }
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
          batch.rejected.push({ label: `line ${number}`, reason: 'not a JSON object' });
          continue;
        }
        const check = rowToUser(raw as Record<string, unknown>, now);
        if (check.ok) batch.users.push(check.user);
        else batch.rejected.push({ label: `line ${number} (${check.label})`, reason: check.reason });
      }
      if (batch.users.length + batch.rejected.length > 0) yield batch;
    },
    close: async () => undefined,
  };
}

/**
 * Collects users in memory and writes the whole file at finish(). An existing file
 * is merged with (its users count as existing) unless `fresh` demands a new file.
 */
export function jsonlSink(file: string, options: { fresh: boolean }): UserSink {
  const users = new UserIndex();
  const temporary = `${file}.${process.pid}.tmp`;
  return {
    description: `JSON Lines file ${file}`,
    async prepare() {
      // Checked first: otherwise the failure is an ENOENT naming the temporary file.
      const directory = path.dirname(file);
      const isDirectory = await stat(directory).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (!isDirectory) throw new OperationProblem(`directory ${directory} does not exist`);
      const exists = await stat(file).then(
        () => true,
        () => false,
      );
      if (exists && options.fresh)
        throw new OperationProblem(`${file} already exists: choose another --out or remove it`);
      if (!exists) return;
      const text = await readFile(file, 'utf8');
      text.split('\n').forEach((line, i) => {
        if (line.trim() === '') return;
        let check;
        try {
          check = rowToUser(JSON.parse(line) as Record<string, unknown>, new Date());
        } catch {
          check = { ok: false, reason: 'not valid JSON' } as const;
        }
        if (!check.ok)
          throw new OperationProblem(`cannot add to ${file}: its line ${i + 1} is not a user (${check.reason})`);
        users.put(check.user.id, check.user);
      });
    },
    async write(batch, onConflict) {
      const plan = planUserBatch(batch, users.matching(batch), onConflict);
      for (const user of plan.inserts) users.put(user.id, user);
      for (const { targetId, user } of plan.updates) users.put(targetId, { ...user, id: targetId });
      return {
        inserted: plan.inserts.length,
        updated: plan.updates.length,
        skipped: plan.skipped.length,
        failures: plan.failures,
      };
    },
    async finish() {
      const handle = await open(temporary, 'w', 0o600);
      try {
        for (const user of users.all()) await handle.write(`${JSON.stringify(userToLine(user))}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, file);
    },
    close: () => rm(temporary, { force: true }),
  };
}

/** The users of the file by id, with lookups by username and email (any case) for the batch planner. */
class UserIndex {
  readonly #byId = new Map<string, UserRecord>();
  readonly #idByName = new Map<string, string>();
  readonly #idByEmail = new Map<string, string>();

  put(id: string, user: UserRecord): void {
    const previous = this.#byId.get(id);
    if (previous) {
      this.#idByName.delete(previous.username.toLowerCase());
      if (previous.email) this.#idByEmail.delete(previous.email.toLowerCase());
    }
    this.#byId.set(id, user);
    this.#idByName.set(user.username.toLowerCase(), id);
    if (user.email) this.#idByEmail.set(user.email.toLowerCase(), id);
  }

  /** Every stored user sharing an id, username or email with one of `batch`. */
  matching(batch: UserRecord[]): ExistingUser[] {
    const ids = new Set<string>();
    for (const u of batch) {
      ids.add(u.id);
      ids.add(this.#idByName.get(u.username.toLowerCase()) ?? '');
      if (u.email) ids.add(this.#idByEmail.get(u.email.toLowerCase()) ?? '');
    }
    return [...ids].flatMap((id) => {
      const u = this.#byId.get(id);
      return u ? [{ id: u.id, username: u.username, email: u.email }] : [];
    });
  }

  all(): IterableIterator<UserRecord> {
    return this.#byId.values();
  }
}

function readLines(file: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
}
