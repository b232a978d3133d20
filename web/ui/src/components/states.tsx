import type { ReactNode } from 'react';

// Loading, empty and error states. A skeleton takes the panel's final height so
// nothing jumps when the data arrive.
export function Skeleton({ height }: { height: number }) {
  return <div className="skeleton" style={{ height }} aria-hidden="true" />;
}

export function ErrorState({ error, onRetry }: { error?: Error; onRetry: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <p>
        <strong>Could not load this.</strong> {error?.message ?? 'Unknown error.'}
      </p>
      <button type="button" className="btn" onClick={onRetry}>
        Retry
      </button>
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p>
        <strong>{title}</strong>
      </p>
      {children}
    </div>
  );
}

// What to do when a range holds no traffic: on a new install, send some. The
// page says it once, under its KPI tiles; the panels below say it briefly.
export function NoTraffic({ brief = false }: { brief?: boolean }) {
  const origin = location.origin;
  if (brief) return <EmptyState title="No API traffic in this range." />;
  return (
    <EmptyState title="No API traffic in this range.">
      <p>Choose a longer date range or clear the filters. If this is a new install, nothing has been sent yet:</p>
      <ul>
        <li>
          try it with simulated traffic: <code>apilens simulate --url {origin} --user … --password …</code>
        </li>
        <li>
          or point a gateway's analytics publisher at <code>POST {origin}/api/v1/events</code>
        </li>
      </ul>
    </EmptyState>
  );
}

export function NotBuilt({ what }: { what: string }) {
  return (
    <EmptyState title={`${what} is not built yet.`}>
      <p>This part of apilens comes in a later release. Nothing is shown here rather than made-up figures.</p>
    </EmptyState>
  );
}

export function NotConfigured({ what }: { what: string }) {
  return (
    <EmptyState title={`Not configured: ${what}`}>
      <p>
        These figures come from the API Manager's own database, which apilens is not connected to. apilens sees only the
        gateways' analytics events.
      </p>
    </EmptyState>
  );
}
