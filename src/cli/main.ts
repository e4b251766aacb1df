/**
 * The `gatekeeper` command (bin/gatekeeper.js loads its compiled form from dist/; so does
 * `npm run gatekeeper -- …`). Exit codes: 0 ok, 1 failed, 2 usage error.
 */
import { processIo, runCli } from './run.js';

const result = await runCli(process.argv.slice(2), processIo());
// `serve` leaves a listening server behind; everything else is done. Writes to pipes
// and files are synchronous on Linux, so exiting here loses no output.
if (result !== 'running') process.exit(result);
