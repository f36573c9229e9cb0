/**
 * Child-process entry of the demo's payment service: configuration from the environment, one
 * JSON line `{"event":"listening","port":N}` on stdout once it accepts connections. It runs in
 * its own process so that the fragile build's crash is a real crash (exit code, stderr), exactly
 * as it would be in production, and so that `faultline demo` can always kill it.
 *
 * Environment: BUILD (fragile | resilient | pool-refactor), DATABASE_URL, LEDGER_FILE, and
 * optionally REDIS_URL, AUTH_URL, PORT, and STOP_ON_STDIN_EOF=1: stop when standard input (a
 * pipe the demo holds) closes, which the kernel does when the demo dies, even by SIGKILL.
 */
import { BUILDS, startPaymentService, type Build } from './payment-service.js';

const env = process.env;
const build = (env['BUILD'] ?? 'resilient') as Build;
if (!BUILDS.includes(build)) {
  process.stderr.write(`BUILD must be one of ${BUILDS.join(', ')}\n`);
  process.exit(2);
}
if (!env['DATABASE_URL'] || !env['LEDGER_FILE']) {
  process.stderr.write('DATABASE_URL and LEDGER_FILE are required\n');
  process.exit(2);
}

const service = await startPaymentService({
  build,
  databaseUrl: env['DATABASE_URL'],
  redisUrl: env['REDIS_URL'] || undefined,
  authUrl: env['AUTH_URL'] || undefined,
  ledgerFile: env['LEDGER_FILE'],
  port: Number(env['PORT'] ?? 0),
});
process.stdout.write(`${JSON.stringify({ event: 'listening', port: service.port, build })}\n`);

const stop = (): void => {
  void service.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
if (env['STOP_ON_STDIN_EOF'] === '1') {
  process.stdin.once('end', stop);
  process.stdin.once('error', stop);
  process.stdin.resume();
}
