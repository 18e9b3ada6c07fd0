import '../lib/polyfill.js';
import { Command } from 'commander';
import { registerNodeCommands } from './commands/node.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerClientCommands } from './commands/client.js';
import { registerDataCommands } from './commands/data.js';
import { registerCertCommands } from './commands/cert.js';
import { registerChannelCommands } from './commands/channel.js';
import { registerIdentityCommands } from './commands/identity.js';
import { registerNameCommands } from './commands/name.js';

const program = new Command();
program.name('iotchain').description('iotchain: a permissioned PBFT chain giving IoT systems a continued integrity service').version('0.1.0');
registerKeyCommands(program);
registerNodeCommands(program);
registerClientCommands(program);
registerDataCommands(program);
registerCertCommands(program);
registerChannelCommands(program);
registerIdentityCommands(program);
registerNameCommands(program);

await program.parseAsync(process.argv);
