/**
 * No static credentials anywhere in the repository: every tracked file is scanned for AWS access keys, secret
 * keys and private keys, and the code never passes credentials to a client (the default chain and roles only).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

const ROOT = decodeURIComponent(new URL('../..', import.meta.url).pathname);
const tracked = (): string[] =>
  execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f !== '' && !f.startsWith('test/fixtures/'));

const PATTERNS: [string, RegExp][] = [
  ['an AWS access key id', /\b(?:AKIA|ASIA|AROA|AIDA)[0-9A-Z]{16}\b/],
  ['a secret access key', /aws_?secret_?access_?key["'\s]*[:=]\s*["']?[A-Za-z0-9/+]{40}/i],
  ['a private key', /-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----/],
  ['a session token', /aws_?session_?token["'\s]*[:=]\s*["']?[A-Za-z0-9/+=]{100,}/i],
];

describe('no static credentials', () => {
  test('no tracked file holds an access key, a secret key, a session token or a private key', () => {
    const files = tracked();
    assert.ok(files.length > 50, `${files.length} files scanned`);
    const found: string[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(join(ROOT, file), 'utf8');
      } catch {
        continue; // deleted in the working tree
      }
      for (const [what, pattern] of PATTERNS) if (pattern.test(text)) found.push(`${file}: ${what}`);
    }
    assert.deepEqual(found, []);
  });

  test('the code gives no client credentials: the default chain (environment, profile, SSO, role) decides', () => {
    const code = tracked().filter((f) => /^(shared|functions|cli|statemachine)\/.*\.ts$/.test(f));
    const offenders = code.filter((f) =>
      /\bcredentials\s*:|accessKeyId\s*:|secretAccessKey\s*:/.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    assert.deepEqual(offenders, []);
  });

  test('the scan finds what it looks for (a key made up here, split so this file does not hold one)', () => {
    const key = `${'AKIA'}${'ABCDEFGHIJKLMNOP'}`;
    assert.ok(PATTERNS[0]?.[1].test(`id = ${key}`));
    assert.ok(PATTERNS[1]?.[1].test(`aws_secret_access_key = ${'a'.repeat(40)}`));
  });
});
