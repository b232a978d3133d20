import { NotBuilt } from '../components/states';
import { Page } from '../page';

// Log Analyzer, Alerts and Reports come in later issues: they say so instead of
// showing made-up figures.
const WHAT: Record<string, string> = {
  loganalyzer: 'The log analyzer',
  alerts: 'Alerting',
  reports: 'Reporting (the monthly usage PDF)',
};

export default function Placeholder({ persona, page, title }: { persona: string; page: string; title: string }) {
  return (
    <Page persona={persona} page={page} title={title} fixed="ready">
      <NotBuilt what={WHAT[persona] ?? title} />
    </Page>
  );
}
