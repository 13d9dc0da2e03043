// The worker's tests: every suite shares one Miniflare running the built worker (build/).
import { after } from 'node:test';

import { dispose } from './support/worker.mjs';

import './bad_input.suite.mjs';
import './callback.suite.mjs';
import './operator.suite.mjs';
import './signature.suite.mjs';

after(dispose);
