/**
 * Passwords come from a prompt without echo on a terminal, or from the first line
 * of standard input when it is piped — never from argv, where `ps` and shell
 * history would show them.
 */
import { OperationProblem } from '../store/postgres/operation-problem.js';
import { UsageError, type CliIo } from './command.js';

const ENTER = new Set(['\r', '\n']);
const BACKSPACE = new Set(['\u007f', '\b']);
const CTRL_C = '\u0003';
const CTRL_D = '\u0004';

/**
 * Reads a new password: asked twice on a terminal, read once from a pipe.
 * @example const password = await readNewPassword(io, `New password for ${username}`);
 */
export async function readNewPassword(io: CliIo, prompt: string): Promise<string> {
  if (io.stdin.isTTY) {
    const first = await promptHidden(io, `${prompt}: `);
    const second = await promptHidden(io, 'Repeat it: ');
    if (first !== second) throw new OperationProblem('the two passwords differ; nothing was changed');
    if (first === '') throw new UsageError('the password is empty');
    return first;
  }
  const line = await readFirstLine(io.stdin);
  if (line === null || line === '') {
    throw new UsageError(
      'no password on standard input: pipe it in (e.g. printf \'%s\\n\' "$PASSWORD" | gatekeeper …) or run on a terminal',
    );
  }
  return line;
}

/** Reads one line in raw mode, printing nothing of what is typed. */
function promptHidden(io: CliIo, prompt: string): Promise<string> {
  const stdin = io.stdin;
  // Echo off before the prompt appears: whatever is typed as soon as it shows must not be echoed
  // by the terminal (the test types right after the prompt, as a fast typist or a paste would).
  stdin.setRawMode(true);
  io.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (error: Error | null) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      io.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (ENTER.has(char)) return finish(null);
        if (char === CTRL_C) return finish(new OperationProblem('cancelled'));
        if (char === CTRL_D && typed === '') return finish(new OperationProblem('cancelled'));
        if (BACKSPACE.has(char)) typed = [...typed].slice(0, -1).join('');
        else if (char >= ' ') typed += char;
      }
    };
    stdin.resume();
    stdin.on('data', onData);
  });
}

/** The first line of a piped stdin without its line ending; null when stdin is empty. */
async function readFirstLine(stdin: NodeJS.ReadStream): Promise<string | null> {
  let text = '';
  for await (const chunk of stdin) {
    text += (chunk as Buffer).toString('utf8');
    if (text.includes('\n')) break;
  }
  // Stop reading: a writer that keeps the pipe open must not keep the command waiting.
  stdin.pause();
  if (text === '') return null;
  return (text.split('\n', 1)[0] ?? '').replace(/\r$/, '');
}
