/**
 * The replication scenarios of sync.test.ts with Mosquitto as the fleet's broker (the hub uses
 * `mqtt.url`; the test runs `mosquitto -c FILE` without persistence). Adds one case: Mosquitto
 * restarted under a running hub loses nothing acknowledged. The scenarios live in
 * test/helpers/sync-cluster.ts. Needs mosquitto (bash setup.sh installs it).
 * Runs alone too: npx uvu -r tsx test "sync-mosquitto.test.ts$"
 */
import { syncSuite } from '../helpers/sync-scenarios.ts';

syncSuite('mosquitto');
