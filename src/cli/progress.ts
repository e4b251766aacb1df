/**
 * Progress of a long copy on stderr: a bar redrawn in place (`\r`) on a terminal,
 * plain lines every 10% (or every 5 s when the total is unknown) otherwise, so logs
 * and CI output stay readable.
 */
import type { CliIo } from './command.js';

export interface ProgressFigures {
  processed: number;
  copied: number;
  skipped: number;
  failed: number;
}

export interface Progress {
  update(figures: ProgressFigures): void;
  /** Ends the bar's line; call once at the end. */
  done(figures: ProgressFigures): void;
}

const BAR_WIDTH = 30;
const REDRAW_MS = 100;
const PLAIN_INTERVAL_MS = 5000;

const counts = (f: ProgressFigures) => `copied ${f.copied}, skipped ${f.skipped}, failed ${f.failed}`;

/** @example const progress = createProgress(io, total); progress.update(totals); … progress.done(totals); */
export function createProgress(io: CliIo, total: number): Progress {
  return io.stderr.isTTY ? terminalBar(io, total) : plainLines(io, total);
}

function terminalBar(io: CliIo, total: number): Progress {
  let lastDraw = 0;
  const draw = (f: ProgressFigures) => {
    const share = total > 0 ? Math.min(1, f.processed / total) : 1;
    const filled = Math.round(share * BAR_WIDTH);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`;
    const percent = `${Math.floor(share * 100)}%`.padStart(4);
    // Trailing spaces wipe what a longer previous line left behind.
    io.stderr.write(`\r[${bar}] ${percent} ${f.processed}/${total} · ${counts(f)}    `);
  };
  return {
    update(f) {
      const now = Date.now();
      if (now - lastDraw < REDRAW_MS) return;
      lastDraw = now;
      draw(f);
    },
    done(f) {
      draw(f);
      io.stderr.write('\n');
    },
  };
}

function plainLines(io: CliIo, total: number): Progress {
  let nextShare = 0.1;
  let lastLine = Date.now();
  const line = (f: ProgressFigures) => {
    const percent = total > 0 ? ` (${Math.floor((f.processed / total) * 100)}%)` : '';
    io.err(`progress: ${f.processed} of ${total} users${percent}: ${counts(f)}`);
    lastLine = Date.now();
  };
  return {
    update(f) {
      const share = total > 0 ? f.processed / total : 0;
      if (share >= nextShare || Date.now() - lastLine >= PLAIN_INTERVAL_MS) {
        while (nextShare <= share) nextShare += 0.1;
        if (f.processed < total) line(f);
      }
    },
    done: () => undefined,
  };
}
