#!/usr/bin/env node
import { runCli } from './program';

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, fetch: globalThis.fetch }).then((code) => {
  process.exitCode = code;
});
