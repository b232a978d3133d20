import type { Top } from '../../api/traffic';
import { EmptyState } from '../../components/states';

// What the store says for a field no event carried: country, browser, OS and
// device stay unknown until the enrichment issue derives them. The rollups
// write "N/A" for geo and "Other" for user-agent fields; docs/api.md says UNKNOWN.
const UNKNOWN_VALUES = ['UNKNOWN', 'N/A', 'OTHER', ''];

export function isUnknown(v: string | undefined): boolean {
  return v === undefined || UNKNOWN_VALUES.includes(v.trim().toUpperCase());
}

export const allUnknown = (dim: string) => (t: Top) => t.items.every((i) => isUnknown(i.labels[dim] ?? i.key));

export function EnrichmentPending({ what }: { what: string }) {
  return (
    <EmptyState title={`No ${what} known yet.`}>
      <p>
        Gateways do not send {what}: apilens derives them from each call's client address and user agent. No call in
        this range came from a public address or with a recognisable user agent (private addresses count as N/A,
        unknown agents as Other), so there is nothing to chart yet.
      </p>
    </EmptyState>
  );
}
