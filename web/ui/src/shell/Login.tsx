import { useEffect, useState, type FormEvent } from 'react';
import { ApiError } from '../api/client';
import { login, type Session } from '../api/session';

export function Login({ onLogin }: { onLogin: (s: Session) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = 'Sign in · apilens';
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      onLogin(await login(username, password));
    } catch (err) {
      const a = err instanceof ApiError ? err : null;
      if (a?.status === 401) setError('Wrong user name or password.');
      else if (a?.status === 429)
        setError(`Too many failed sign-ins from this address. Wait ${a.retryAfter ? `${Math.ceil(a.retryAfter / 60)} minute(s)` : 'a few minutes'} and try again.`);
      else setError(a?.message ?? 'Could not sign in.');
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login" data-testid="page-login">
      <form className="login-box" onSubmit={submit} aria-label="Sign in">
        <h1>
          <span className="logo" aria-hidden="true">◎</span> apilens
        </h1>
        <p className="muted">API analytics. Sign in with your apilens account.</p>
        <label>
          User name
          <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        {error && (
          <p className="form-error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
