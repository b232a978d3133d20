import { PersonaView } from '../../traffic';
import { ApiUsagePage, FaultsPage, PerformancePage } from '../shared';

// API Analytics: the publisher's usage, performance and fault pages. The server
// limits the answers to what the user may see (view=api).
export default function ApiPages({ page }: { page: string }) {
  return (
    <PersonaView.Provider value="api">
      {page === 'usage' && <ApiUsagePage persona="api" page="usage" title="API usage" />}
      {page === 'performance' && <PerformancePage persona="api" page="performance" title="API performance" />}
      {page === 'faults' && <FaultsPage persona="api" page="faults" title="API faults" />}
    </PersonaView.Provider>
  );
}
