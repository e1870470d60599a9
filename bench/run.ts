/**
 * `npm run bench` — runs the benchmark suites against the local runtime and writes
 * docs/performance.md (with charts in docs/performance/) and bench/results/latest.json.
 *
 *   npm run bench                         every suite, full sizes (about 15 minutes here)
 *   npm run bench -- --suite latency      one suite (requests, coldstart, latency, fanout, batch);
 *                                         the others keep their last results
 *   npm run bench -- --quick              small sizes, to check the benchmark itself
 *   npm run bench -- --report             rewrite the report from the last results only
 *
 * Sizes: --group 10000 --online 1000 (requests), --clients 1000 --rates 25,50,100,200
 * --rate 50 (profiled, and priced as '1:1 under load') --seconds 15 (latency), --fanout-members 10000 --fanout-online 1000 (fan-out),
 * --batch-recipients 10000 (batch),
 * --runs 10 (cold start).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { writeReport, type Results } from './report';
import { runBatch } from './suites/batch';
import { runColdStart } from './suites/cold-start';
import { modelFanout, runFanoutLocal } from './suites/fanout';
import { runLatency } from './suites/latency';
import { runRequests } from './suites/requests';
import { startBench } from './support';

const SUITES = ['requests', 'coldstart', 'latency', 'fanout', 'batch'] as const;
type Suite = (typeof SUITES)[number];

const { values } = parseArgs({
  options: {
    suite: { type: 'string' },
    quick: { type: 'boolean', default: false },
    group: { type: 'string' },
    online: { type: 'string' },
    clients: { type: 'string' },
    rates: { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    'fanout-members': { type: 'string' },
    'fanout-online': { type: 'string' },
    'batch-recipients': { type: 'string' },
    runs: { type: 'string' },
    report: { type: 'boolean', default: false },
  },
});
const q = values.quick;
const num = (v: string | undefined, full: number, quick: number) => (v !== undefined ? Number(v) : q ? quick : full);
// --report: only rewrite docs/performance.md from the last results (and the current template).
const suites: Suite[] = values.report ? [] : values.suite ? (values.suite.split(',') as Suite[]) : [...SUITES];
for (const s of suites) if (!SUITES.includes(s)) throw new Error(`Unknown suite ${s}; one of ${SUITES.join(', ')}`);

const resultsFile = 'bench/results/latest.json';
mkdirSync('bench/results', { recursive: true });
const results: Results = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : {};
if (suites.length > 0) results.machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, date: new Date().toISOString().slice(0, 10) };

const say = (s: string) => process.stderr.write(`[bench] ${s}\n`);

// One runtime for the whole run: the AWS SDK clients are per process, like a Lambda
// container's, and keep the endpoints they were created with.
let runtime: Awaited<ReturnType<typeof startBench>> | undefined;
async function withRuntime<T>(fn: (cirrus: Awaited<ReturnType<typeof startBench>>) => Promise<T>): Promise<T> {
  runtime ??= await startBench();
  return fn(runtime);
}

for (const suite of suites) {
  const started = Date.now();
  say(`${suite}…`);
  if (suite === 'requests') {
    const options = { bigGroup: num(values.group, 10_000, 500), bigOnline: num(values.online, 1_000, 50) };
    results.requests = { options, scenarios: await withRuntime((c) => runRequests(c, options)) };
  } else if (suite === 'coldstart') {
    results.coldStart = await runColdStart(num(values.runs, 10, 3));
  } else if (suite === 'latency') {
    const rates = values.rates ? values.rates.split(',').map(Number) : q ? [25, 50] : [25, 50, 100, 200];
    const options = { clients: num(values.clients, 1_000, 100), rates, mainRate: num(values.rate, 50, 25), seconds: num(values.seconds, 15, 5) };
    results.latency = await withRuntime((c) => runLatency(c, options));
  } else if (suite === 'fanout') {
    const members = num(values['fanout-members'], 10_000, 500);
    const online = num(values['fanout-online'], 1_000, 50);
    const local = await withRuntime((c) => runFanoutLocal(c, { members, online, runs: q ? 2 : 3 }));
    results.fanout = {
      local,
      models: [modelFanout(10_000, 1_000, true), modelFanout(10_000, 10_000, true), modelFanout(100, 20), modelFanout(100_000, 10_000, true), modelFanout(10_000, 1_000), modelFanout(members, online, members >= 200)],
    };
  }
  else if (suite === 'batch') {
    results.batch = await withRuntime((c) => runBatch(c, { recipients: num(values['batch-recipients'], 10_000, 500) }));
  }
  say(`${suite} done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

await runtime?.stop();
writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
writeReport(results);
say(`wrote ${resultsFile} and docs/performance.md`);
process.exit(0);
