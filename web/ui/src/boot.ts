import { sessionFromPage, startFirstCheck, type Persona } from './api/session';
import { PAGE_LOADERS, loadPage } from './pages/loaders';
import { parsePath, PERSONAS } from './personas';
import { prefetch } from './prefetch';
import './styles.css';

// The entry chunk is this small module. It starts the landing page's data
// requests (prefetch.ts), the opened page's chunk (at "/" the first persona's,
// the Business overview, where an admin lands) and the app (React, the shell);
// index.html already preloads the app's code and the Business overview's (see
// vite.config.ts).
//
// The server writes the session into the page when the request carried a live
// cookie (web/ui.go), so the data requests go out at once, side by side with
// the code. Otherwise the session check comes first, and the app's code runs
// only once it has answered: running it is a long task, and the answer's
// handler would wait behind it, whereas this way the server works on the data
// while the app starts. The app cannot show anything but a blank page before
// the session answers anyway.
const inPage = sessionFromPage();
const check = startFirstCheck(inPage);
if (inPage) {
  prefetch(inPage, location.pathname, location.search);
  void import('./main');
} else {
  check.then((s) => prefetch(s, location.pathname, location.search), () => undefined).finally(() => void import('./main'));
}

const opened = parsePath(location.pathname).persona as Persona;
const guess = opened in PAGE_LOADERS ? opened : location.pathname === '/' ? PERSONAS[0].id : null;
if (guess) loadPage(guess).catch(() => undefined);
