/**
 * Which console pages each role may use. The navigation shows only these, and a page opened by URL
 * outside them shows the 403 page; the services refuse the calls behind them too, so this is for
 * people, not the defence.
 */

export type Role = 'admin' | 'finance' | 'auditor' | 'merchant_staff';

export type PageKey = 'home' | 'inbox' | 'sessions' | 'people' | 'merchants' | 'settlement';

const PAGE_ROLES: Record<PageKey, readonly Role[]> = {
  home: ['admin', 'finance', 'auditor', 'merchant_staff'],
  // Deciding a request needs the role it names; an auditor and merchant staff decide none.
  inbox: ['admin', 'finance'],
  sessions: ['admin', 'finance', 'auditor', 'merchant_staff'],
  people: ['admin', 'auditor'],
  merchants: ['admin', 'auditor'],
  settlement: ['finance', 'auditor'],
};

export const PAGE_PATHS: Record<PageKey, string> = {
  home: '/',
  inbox: '/inbox',
  sessions: '/sessions',
  people: '/people',
  merchants: '/merchants',
  settlement: '/settlement',
};

export const PAGE_ORDER: readonly PageKey[] = [
  'home',
  'inbox',
  'merchants',
  'settlement',
  'people',
  'sessions',
];

export function mayUse(roles: readonly string[], page: PageKey): boolean {
  return PAGE_ROLES[page].some((role) => roles.includes(role));
}

export function pagesFor(roles: readonly string[]): PageKey[] {
  return PAGE_ORDER.filter((page) => mayUse(roles, page));
}

/** People may be managed by an admin; an auditor sees them read-only. */
export function managesPeople(roles: readonly string[]): boolean {
  return roles.includes('admin');
}

export const ALL_ROLES: readonly Role[] = ['admin', 'finance', 'auditor', 'merchant_staff'];
