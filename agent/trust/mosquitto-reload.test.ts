/** MosquittoReload on a ManualClock: files rewritten and Mosquitto reloaded exactly when the mark moves. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';
import { MosquittoReload } from './mosquitto-reload.ts';

interface Ctx {
  clock: ManualClock;
  mark: string;
  rewrites: string[];
  reloads: number;
  failRewrite: boolean;
  reload: MosquittoReload;
}

const test = suite<Ctx>('MosquittoReload');

test.before.each((ctx) => {
  ctx.clock = new ManualClock();
  ctx.mark = '0/0';
  ctx.rewrites = [];
  ctx.reloads = 0;
  ctx.failRewrite = false;
  ctx.reload = new MosquittoReload({
    clock: ctx.clock,
    logger: createSilentLogger(),
    mark: () => ctx.mark,
    rewrite: async () => {
      if (ctx.failRewrite) throw new HarnessError('disk full');
      ctx.rewrites.push(ctx.mark);
      return {};
    },
    reload: async () => {
      ctx.reloads++;
    },
  });
});

test.after.each((ctx) => ctx.reload.stop());

test('rewrites and reloads at start, then only when the mark moves', async (ctx) => {
  ctx.reload.start();
  await waitFor(() => ctx.reloads === 1, 'the first reload', 2000);
  ctx.clock.advance(5000);
  await Promise.resolve();
  assert.is(ctx.reloads, 1, 'nothing changed');
  ctx.mark = '1/0'; // a box enrolled
  ctx.clock.advance(1000);
  await waitFor(() => ctx.reloads === 2, 'the reload after the enrolment', 2000);
  ctx.mark = '1/1'; // it was revoked
  ctx.clock.advance(1000);
  await waitFor(() => ctx.reloads === 3, 'the reload after the revocation', 2000);
  assert.equal(ctx.rewrites, ['0/0', '1/0', '1/1']);
});

test('a failed rewrite reloads nothing and is tried again at the next round', async (ctx) => {
  ctx.failRewrite = true;
  ctx.reload.start();
  await waitFor(() => ctx.clock.pendingCount === 1, 'the next round scheduled', 2000);
  assert.is(ctx.reloads, 0);
  ctx.failRewrite = false;
  ctx.clock.advance(1000);
  await waitFor(() => ctx.reloads === 1, 'the reload once the rewrite works', 2000);
});

test.run();
