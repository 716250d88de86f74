/**
 * Who may be answered a catch-up request, and with what (issue 12, item 4; docs/security.md):
 * only a requester this replica knows from a believed state (with a CA: its certificate), and
 * only with a stream its identity entitles it to. The reply goes to the requester's own
 * response topic, which the broker ACL lets no one else read (agent/trust/broker-acl.ts).
 */
import type { SyncRequest } from '../wire/messages.ts';
import { siteStream } from '../wire/topics.ts';
import type { KnownNode } from './peer-directory.ts';

/** Why `req` is not answered, or undefined when it may be. */
export function requestRefusal(req: Pick<SyncRequest, 'requester' | 'stream'>, requester: Pick<KnownNode, 'role' | 'site'> | undefined, self: { role: 'node' | 'hub'; site: string }): string | undefined {
  if (!requester) return 'unknown requester';
  if (requester.role === 'hub') return undefined;
  if (self.role === 'hub') {
    if (req.stream === 'global' || req.stream === siteStream(requester.site)) return undefined;
    return `stream ${req.stream} is not for site ${requester.site}`;
  }
  if (req.stream !== 'own') return `a box serves only its own stream, not ${req.stream}`;
  return requester.site === self.site ? undefined : `requester is of site ${requester.site}, not ${self.site}`;
}
