import { startFirstCheck, type Persona } from './api/session';
import { PAGE_LOADERS, loadPage } from './pages/loaders';
import { parsePath, PERSONAS } from './personas';
import { prefetch } from './prefetch';
import './styles.css';

// The entry chunk is this small module. It starts the session check and the
// opened page's chunk (at "/" the first persona's, the Business overview, where
// an admin lands); index.html already preloads the app's code (React, the
// shell; see vite.config.ts). Once the session answers, the landing page's
// data requests go out (prefetch.ts), and only then does the app's code run:
// running it is a long task, and the answer's handler would wait behind it,
// whereas this way the server works on the data while the app starts. The
// app cannot show anything but a blank page before the session answers anyway.
startFirstCheck()
  .then((s) => prefetch(s, location.pathname, location.search), () => undefined)
  .finally(() => void import('./main'));

const opened = parsePath(location.pathname).persona as Persona;
const guess = opened in PAGE_LOADERS ? opened : location.pathname === '/' ? PERSONAS[0].id : null;
if (guess) loadPage(guess).catch(() => undefined);
