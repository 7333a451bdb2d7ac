/**
 * The operator CLI (`bin/latchkey.js`) as an operator runs it: a separate Node process on the
 * same store as the test server (its env), JSON on stdout, one-line reasons on stderr.
 * - `run` returns what happened, whatever it was (for tests of failures).
 * - `json` demands exit code 0 and stdout that is JSON and nothing else: anything else fails the
 *   test loudly with the command, its code and both streams, never as a quiet `undefined`.
 * - `fail` demands a non-zero exit, nothing on stdout and exactly one line on stderr, and
 *   returns that line (the README's promise for every failing command).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const CLI_BIN = path.join(ROOT, 'bin', 'latchkey.js');

export interface CliResult {
  /** The exit code; null only if the process was killed (e.g. by the timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  timeoutMs?: number;
}

export function runCli(args: string[], env: Record<string, string>, options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const describeRun = (args: string[], result: CliResult) => `latchkey ${args.join(' ')} exited ${result.code}\n--- stdout:\n${result.stdout}\n--- stderr:\n${result.stderr}`;

/** stdout as JSON; throws (with the whole run) if it is not exactly one JSON document. */
export function parseCliJson(args: string[], result: CliResult): any {
  try {
    return JSON.parse(result.stdout);
  } catch (error) {
    throw new Error(`stdout is not JSON (${(error as Error).message}): ${describeRun(args, result)}`);
  }
}

export interface Cli {
  run(...args: string[]): Promise<CliResult>;
  /** Exit 0 and JSON on stdout, or the test fails with the run's output. */
  json(...args: string[]): Promise<any>;
  /** A non-zero exit with nothing on stdout and one line on stderr; returns the code and that line. */
  fail(...args: string[]): Promise<{ code: number; reason: string; stderr: string }>;
}

/** A CLI bound to an environment (usually a test server's `env`, plus overrides). */
export function cliFor(env: Record<string, string>, options: CliOptions = {}): Cli {
  return {
    run: (...args) => runCli(args, env, options),
    async json(...args) {
      const result = await runCli(args, env, options);
      if (result.code !== 0) throw new Error(`expected exit code 0: ${describeRun(args, result)}`);
      return parseCliJson(args, result);
    },
    async fail(...args) {
      const result = await runCli(args, env, options);
      if (result.code === 0 || result.code === null) throw new Error(`expected a failure: ${describeRun(args, result)}`);
      if (result.stdout !== '') throw new Error(`a failing command must print nothing on stdout: ${describeRun(args, result)}`);
      const lines = result.stderr.trim().split('\n');
      if (lines.length !== 1 || lines[0] === '') throw new Error(`expected one line on stderr, got ${lines.length}: ${describeRun(args, result)}`);
      return { code: result.code, reason: lines[0], stderr: result.stderr };
    },
  };
}
