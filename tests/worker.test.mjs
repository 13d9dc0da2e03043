// The worker's and the CLI's tests: every suite shares one Miniflare running the built worker
// (build/), and the CLI suites one Prism.
import { after } from 'node:test';

import { stopPrism } from './support/prism.mjs';
import { dispose } from './support/worker.mjs';

import './bad_input.suite.mjs';
import './callback.suite.mjs';
import './cli.suite.mjs';
import './events.suite.mjs';
import './instructions.suite.mjs';
import './load.suite.mjs';
import './operator.suite.mjs';
import './signature.suite.mjs';
// Last: it reads what every other suite made the worker print.
import './logs.suite.mjs';

after(async () => {
  await stopPrism();
  await dispose();
});
