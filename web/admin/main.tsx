/** The admin console: navigation, the signed-in admin, the two-admins warning, and the pages. */
import { render } from 'preact';
import { api } from '../ui/api.ts';
import { ErrorNote, Loading, ToastProvider, useLoad } from '../ui/components.tsx';
import { Link, navigate, usePath } from '../ui/router.tsx';
import { AppsPage } from './apps/list.tsx';
import { AppDetailPage } from './apps/detail.tsx';
import { IdentitiesPage } from './identities/list.tsx';
import { IdentityDetailPage } from './identities/detail.tsx';
import { GroupDetailPage, GroupsPage } from './groups.tsx';
import { AuditPage } from './audit.tsx';
import { PolicyPage } from './policy.tsx';
import type { SessionView } from '../../server/edges/admin/views.ts';
import { BrandMark } from '../ui/brand-mark.tsx';

type SessionInfo = SessionView;

const sections = [
  { href: '/admin/apps', label: 'Applications' },
  { href: '/admin/identities', label: 'Identities' },
  { href: '/admin/groups', label: 'Groups' },
  { href: '/admin/policy', label: 'Passkey policy' },
  { href: '/admin/audit', label: 'Audit log' },
];

function Route({ path }: { path: string }) {
  const parts = path.replace(/^\/admin\/?/, '').split('/').filter(Boolean);
  const [section, id, tab] = parts;
  if (!section) {
    navigate('/admin/apps');
    return null;
  }
  if (section === 'apps') return id ? <AppDetailPage id={id} tab={tab ?? null} /> : <AppsPage />;
  if (section === 'identities') return id ? <IdentityDetailPage id={id} /> : <IdentitiesPage />;
  if (section === 'groups') return id ? <GroupDetailPage id={id} /> : <GroupsPage />;
  if (section === 'audit') return <AuditPage />;
  if (section === 'policy') return <PolicyPage />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <Link href="/admin/apps">Go to Applications</Link>
      </p>
    </section>
  );
}

function Console() {
  const path = usePath();
  const session = useLoad(() => api<SessionInfo>('GET', '/admin/api/session'), [path.split('/')[2]]);
  return (
    <ToastProvider>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <div class="layout">
        <aside class="sidebar">
          <div class="sidebar-inner">
          <div class="brand">
            <BrandMark />
            <span>
              {document.body.dataset.org}
              <small>Admin console</small>
            </span>
          </div>
          <nav aria-label="Console sections">
            <ul>
              {sections.map((item) => (
                <li key={item.href}>
                  <Link href={item.href} class="nav-link" aria-current={path.startsWith(item.href) ? 'page' : undefined}>
                    {item.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          <div class="sidebar-footer">
            {session.data && (
              <p class="signed-in">
                Signed in as <strong>{session.data.me.userName}</strong>
              </p>
            )}
            <a class="nav-link" href="/">
              My dashboard
            </a>
            <form method="post" action="/admin/logout">
              <button type="submit" class="button button-small button-ghost">
                Sign out
              </button>
            </form>
          </div>
          </div>
        </aside>
        <main id="main" class="content" tabIndex={-1}>
          {session.error ? <ErrorNote error={session.error} /> : null}
          {session.data?.readiness.warning && (
            <p class="notice notice-warn banner" role="alert">
              <strong>Admin access at risk.</strong> {session.data.readiness.warning} Use <code>latchkey admins add</code> to add another admin.
            </p>
          )}
          {session.data ? <Route path={path} /> : !session.error && <Loading what="the console" />}
        </main>
      </div>
    </ToastProvider>
  );
}

const root = document.getElementById('app')!;
root.textContent = '';
render(<Console />, root);
