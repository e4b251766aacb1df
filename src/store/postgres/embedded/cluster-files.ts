/**
 * The files the embedded server keeps beside its data directory (see ../embedded.ts for the layout):
 * credentials.json, owner.pid, and the permissions the server's OS account needs on the way there.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** credentials.json (0600): the superuser, its password, and the port used last. */
export interface Credentials {
  user: string;
  password: string;
  port?: number;
}

/** The pid in owner.pid if that process still runs Node (a recycled pid of another program does not count). */
export async function liveOwner(ownerFile: string): Promise<number | null> {
  const pid = Number((await fs.readFile(ownerFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
  } catch {
    return null;
  }
  if (os.platform() !== 'linux') return pid;
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  // A zombie (killed, not yet reaped) answers kill(pid, 0) but is gone for our purposes.
  if (/^State:\s+Z/m.test(status)) return null;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.includes('node') ? pid : null;
}

/** The server's user must traverse every parent of PGDATA and of the binaries (mkdtemp makes 0700 dirs). */
export async function makeTraversable(dirs: string[], account: { uid: number; gid: number }, log: (l: string) => void) {
  for (const start of dirs) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      const st = await fs.stat(dir);
      const bit = st.uid === account.uid ? 0o100 : st.gid === account.gid ? 0o010 : 0o001;
      if ((st.mode & bit) === 0) {
        await fs.chmod(dir, (st.mode & 0o7777) | 0o001); // search only: names stay unlisted
        log(`made ${dir} traversable (o+x) so the PostgreSQL user (uid ${account.uid}) can reach its files`);
      }
      if (dir === path.dirname(dir)) break;
    }
  }
}

/** The cluster's credentials; a new random password when the cluster is yet to be created. */
export async function loadCredentials(
  c: { credentialsFile: string; pgData: string },
  initialised: boolean,
  user: string,
): Promise<Credentials> {
  try {
    return JSON.parse(await fs.readFile(c.credentialsFile, 'utf8')) as Credentials;
  } catch (err) {
    // Not the parser's message: it quotes the file's text, password included.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new Error(`cannot read ${c.credentialsFile}: ${code ?? 'not valid JSON'}`);
    if (initialised)
      throw new Error(`${c.credentialsFile} is missing: the password of the cluster in ${c.pgData} is lost`);
  }
  // Written before initdb, so a cluster never exists without its password on disk.
  const creds: Credentials = { user, password: randomBytes(24).toString('base64url') };
  await saveCredentials(c.credentialsFile, creds);
  return creds;
}

/** Written to a temporary file and renamed, so a crash never leaves half a file. */
export async function saveCredentials(file: string, creds: Credentials): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  await fs.rename(tmp, file);
}

/** A killed process its parent has not reaped yet (Linux). */
export function isZombie(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? false;
  } catch {
    return false; // gone, or no /proc (not Linux): pg_ctl status already answered
  }
}
