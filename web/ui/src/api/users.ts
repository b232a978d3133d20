import { request } from './client';

export interface User {
  name: string;
  roles: string[];
  tenant: string;
  created: string;
}

// The roles of REFERENCE §9 as apilens names them (docs/api.md).
export const ROLES = [
  { id: 'admin', label: 'Administrator (everything)' },
  { id: 'business_analytics:view', label: 'Business Analytics' },
  { id: 'api_analytics:view', label: 'API Analytics' },
  { id: 'application_analytics:view', label: 'Application Analytics' },
  { id: 'monitoring_dashboard:view', label: 'Monitoring and Alerts' },
  { id: 'publisher', label: 'Publisher (sends events only)' },
];

export async function listUsers(signal?: AbortSignal): Promise<User[]> {
  const r = await request<{ users: User[] }>('/api/v1/users', { signal });
  return r.users;
}

export function addUser(u: { name: string; password: string; roles: string[]; tenant: string }): Promise<User> {
  return request('/api/v1/users', { method: 'POST', body: u });
}

export function removeUser(name: string): Promise<void> {
  return request(`/api/v1/users/${encodeURIComponent(name)}`, { method: 'DELETE' });
}
