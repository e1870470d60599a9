/**
 * A stream event source with a state file, in a process of its own so a test can kill it
 * with SIGKILL. Each delivered record's key is appended (fsynced) to the log file; the
 * batch holding the key `hangOn` never returns, so the test can kill the process in the
 * middle of it. Usage: stream-child.ts <endpoint> <table> <state file> <log file> [hangOn]
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { startStreamSource } from '../../local/aws/stream-source';

const [endpoint, tableName, stateFile, logFile, hangOn] = process.argv.slice(2);
const fd = openSync(logFile, 'a');
startStreamSource({
  endpoint,
  tableName,
  region: 'us-east-1',
  batchSize: 5,
  maxBatchingWindowSeconds: 0,
  eventNames: ['INSERT', 'MODIFY'],
  maxRecordAgeSeconds: 86_400,
  retryAttempts: 3,
  bisectBatchOnError: true,
  stateFile,
  pollIntervalMs: 50,
  invoke: async (event) => {
    const keys = event.Records.map((r) => r.dynamodb!.Keys!.k.S!);
    writeSync(fd, keys.map((k) => `${k}\n`).join(''));
    fsyncSync(fd);
    if (hangOn && keys.includes(hangOn)) {
      process.stdout.write('hanging\n');
      await new Promise(() => {});
    }
    return {};
  },
  onFailure: async () => {},
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write('started\n');
process.on('exit', () => closeSync(fd));
