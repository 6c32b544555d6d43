import { Command, CommanderError } from 'commander';
import { CliError, ExitCode } from './errors';
import type { CliIo } from './http-client';
import { auditCommand } from './commands/audit.command';
import { keyLinksCommand } from './commands/key-links.command';
import { byokCommand } from './commands/byok.command';
import { complianceCommand, policiesCommand } from './commands/policies.command';
import { projectionsCommand } from './commands/projections.command';
import { systemsCommand } from './commands/systems.command';
import { usageCommand } from './commands/usage.command';
import { killSwitchCommand } from './commands/kill-switch.command';
import { tenantsCommand } from './commands/tenants.command';
import { loginCommands } from './commands/login.command';
import { approvalsCommand } from './commands/approvals.command';

export interface ProgramOptions {
  sleep?: (ms: number) => Promise<void>;
}

/** Builds `cmk`; tests run it in-process with their own io. */
export function buildProgram(io: CliIo, opts: ProgramOptions = {}): Command {
  const program = new Command('cmk')
    .description('OpenKCM CMK: operator and auditor command line')
    .option('--url <url>', 'control plane URL (env CMK_URL)')
    .option('--token <jwt>', 'bearer token (env CMK_TOKEN)')
    .option('--token-file <path>', 'file holding the bearer token (env CMK_TOKEN_FILE)')
    .option('--json', 'print JSON for scripts instead of tables')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    .showHelpAfterError();
  for (const sub of [tenantsCommand(io), systemsCommand(io), keyLinksCommand(io), byokCommand(io), policiesCommand(io), auditCommand(io, opts.sleep), projectionsCommand(io, opts.sleep), usageCommand(io), killSwitchCommand(io), complianceCommand(io), approvalsCommand(io), ...loginCommands(io, opts)]) {
    sub.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
    for (const leaf of sub.commands) leaf.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
    program.addCommand(sub);
  }
  return program;
}

/** Runs the CLI and returns its exit code; never throws and never prints a stack trace. */
export async function runCli(argv: string[], io: CliIo, opts: ProgramOptions = {}): Promise<number> {
  try {
    await buildProgram(io, opts).parseAsync(argv, { from: 'user' });
    return ExitCode.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.ok;
      return ExitCode.usage;
    }
    if (e instanceof CliError) {
      io.stderr.write(`${e.message.startsWith('error:') ? e.message : `error: ${e.message}`}\n`);
      return e.exitCode;
    }
    io.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return ExitCode.failure;
  }
}
