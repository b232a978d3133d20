import type { ReactNode } from 'react';
import { usePanelState, type PanelState } from '../page';
import { ErrorState, Skeleton } from './states';
import type { QueryResult } from '../query';

// A titled panel that shows its query's state: skeleton, error with retry,
// an empty message, or its content. It reports that state to the page.
export function Panel<T>(props: {
  testid: string;
  title: string;
  subtitle?: ReactNode;
  actions?: ReactNode;
  height: number;
  query: QueryResult<T>;
  isEmpty?: (d: T) => boolean;
  empty?: ReactNode;
  wide?: boolean;
  children: (data: T) => ReactNode;
}) {
  const { query } = props;
  let state: PanelState = query.status;
  if (query.status === 'ready' && props.isEmpty?.(query.data as T)) state = 'empty';
  usePanelState(state);

  return (
    <section className={`panel${props.wide ? ' panel-wide' : ''}`} data-testid={props.testid} data-state={state} aria-label={props.title}>
      <header className="panel-head">
        <div>
          <h2>{props.title}</h2>
          {props.subtitle && <p className="panel-sub">{props.subtitle}</p>}
        </div>
        {state === 'ready' && props.actions}
      </header>
      <div className="panel-body" style={{ minHeight: props.height }}>
        {state === 'loading' && <Skeleton height={props.height} />}
        {state === 'error' && <ErrorState error={query.error} onRetry={query.retry} />}
        {state === 'empty' && props.empty}
        {state === 'ready' && props.children(query.data as T)}
      </div>
    </section>
  );
}
