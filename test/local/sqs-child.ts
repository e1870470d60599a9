/**
 * A LocalSqs with a state file, served over HTTP in a process of its own so a test can
 * kill it with SIGKILL. Prints its URL once it listens. Usage: sqs-child.ts <state file>
 */
import { LocalSqs } from '../../local/aws/sqs';
import { mount } from './mount';

const sqs = new LocalSqs({ file: process.argv[2] });
const server = await mount([sqs]);
sqs.baseUrl = server.url;
sqs.createQueue('Work');
process.stdout.write(`listening ${server.url}\n`);
