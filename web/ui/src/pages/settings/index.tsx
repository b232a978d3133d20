import { useState, type FormEvent } from 'react';
import { ApiError } from '../../api/client';
import { ROLES, addUser, listUsers, removeUser, type User } from '../../api/users';
import { DataTable, type Column } from '../../components/DataTable';
import { Panel } from '../../components/Panel';
import { formatTime, zoneName } from '../../lib/format';
import { Page } from '../../page';
import { useQuery } from '../../query';
import { useView } from '../../view';

// Settings → Users (admin): the same accounts `apilens users …` manages.
function Users({ me }: { me: string }) {
  const { state } = useView();
  const [version, setVersion] = useState(0);
  const users = useQuery(`users|${version}`, () => listUsers());
  const [message, setMessage] = useState('');
  const reload = () => setVersion((v) => v + 1);

  async function remove(name: string) {
    if (!confirm(`Remove the user ${name}? They are signed out and cannot sign in again.`)) return;
    try {
      await removeUser(name);
      setMessage(`Removed ${name}.`);
      reload();
    } catch (e) {
      setMessage(`Could not remove ${name}: ${(e as Error).message}`);
    }
  }

  const columns: Column<User>[] = [
    { id: 'name', header: 'Name', value: (u) => u.name },
    { id: 'roles', header: 'Roles', value: (u) => u.roles.join(', ') },
    { id: 'tenant', header: 'Tenant', value: (u) => u.tenant },
    { id: 'created', header: `Created (${zoneName(state.tz)})`, value: (u) => (u.created ? formatTime(u.created, state.tz) : '') },
  ];

  return (
    <Page persona="settings" page="users" title="Users">
      <AddUser
        onAdded={(n) => {
          setMessage(`Added ${n}.`);
          reload();
        }}
      />
      <p className="status-line" role="status">
        {message}
      </p>
      <Panel testid="panel-users" title="Users" height={200} wide query={users}>
        {(list) => (
          <DataTable
            testid="table-users"
            name="users"
            columns={columns}
            rows={list}
            rowKey={(u) => u.name}
            initialSort={[{ id: 'name', desc: false }]}
            pageSize={25}
            caption="Users"
            actions={{
              header: '',
              render: (u) => (
                <button type="button" className="btn btn-small btn-danger" data-testid={`remove-user-${u.name}`} disabled={u.name === me} title={u.name === me ? 'You cannot remove yourself' : `Remove ${u.name}`} onClick={() => remove(u.name)}>
                  Remove
                </button>
              ),
            }}
          />
        )}
      </Panel>
    </Page>
  );
}

function AddUser({ onAdded }: { onAdded: (name: string) => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [roles, setRoles] = useState<string[]>([]);
  const [tenant, setTenant] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError('');
    if (roles.length === 0) return setError('Choose at least one role.');
    setBusy(true);
    try {
      await addUser({ name: name.trim(), password, roles, tenant: tenant.trim() });
      onAdded(name.trim());
      setName('');
      setPassword('');
      setRoles([]);
      setTenant('');
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not add the user.');
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="panel form" onSubmit={submit} data-testid="add-user" aria-label="Add a user">
      <h2>Add a user</h2>
      <div className="form-row">
        <label>
          Name
          <input name="new-name" value={name} onChange={(e) => setName(e.target.value)} required autoComplete="off" />
        </label>
        <label>
          Password
          <input name="new-password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="new-password" />
        </label>
        <label>
          Tenant
          <input name="new-tenant" value={tenant} onChange={(e) => setTenant(e.target.value)} autoComplete="off" placeholder="carbon.super" />
        </label>
      </div>
      <fieldset>
        <legend>Roles</legend>
        {ROLES.map((r) => (
          <label key={r.id} className="check">
            <input type="checkbox" name="role" value={r.id} checked={roles.includes(r.id)} onChange={(e) => setRoles(e.target.checked ? [...roles, r.id] : roles.filter((x) => x !== r.id))} />
            {r.label} <code>{r.id}</code>
          </label>
        ))}
      </fieldset>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="btn btn-primary" disabled={busy}>
        Add user
      </button>
    </form>
  );
}

export default function SettingsPages({ page, me }: { page: string; me: string }) {
  return page === 'users' ? <Users me={me} /> : null;
}
