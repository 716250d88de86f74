/**
 * Replication end to end with real processes and the hub's embedded broker (aedes): one hub and
 * three nodes of site `a` (each also running its own broker for its site peers). Acknowledged
 * REGISTERs (200 OK) are the unit of an acknowledged write; each scenario checks that every one
 * of them reaches every replica and that all table digests converge: fan-out, a partition from
 * the hub, a node killed with SIGKILL in the middle of a burst, site peers following a restarted
 * node to its new broker port, and a compromised node that publishes rows it does not own.
 * The scenarios live in test/helpers/sync-scenarios.ts.
 * Runs alone too: npx uvu -r tsx test "sync.test.ts$"
 */
import { syncSuite } from '../helpers/sync-scenarios.ts';

syncSuite('embedded');
