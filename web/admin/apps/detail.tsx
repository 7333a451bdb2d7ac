/** One application's page: a tab per concern, each tab its own address. */
import { api } from '../../ui/api.ts';
import { Badge, ErrorNote, Loading, useLoad } from '../../ui/components.tsx';
import { navigate } from '../../ui/router.tsx';
import { Page } from '../../ui/page.tsx';
import type { AppDetailView } from '../../../server/edges/admin/views.ts';
import { kindLabels } from './kinds.ts';
import { GeneralPanel } from './general-panel.tsx';
import { ClientPanel } from './client-panel.tsx';
import { TileImagePanel } from './tile-image-panel.tsx';
import { AssignmentsPanel } from './assignments-panel.tsx';
import { ScimPanel } from './scim-panel.tsx';
import { OktaConnectionPanel } from './okta-connection-panel.tsx';
import { ReachabilityNote } from './reachability-note.tsx';

const oidcTabs = ['General', 'Client & endpoints', 'Provisioning', 'Okta registration attribute', 'Assignments'] as const;
const bookmarkTabs = ['General', 'Tile image', 'Assignments'] as const;

export function AppDetailPage({ id, tab }: { id: string; tab: string | null }) {
  const { data, error, reload } = useLoad(() => api<AppDetailView>('GET', `/admin/api/apps/${encodeURIComponent(id)}`), [id]);
  if (error) return <ErrorNote error={error} />;
  if (!data) return <Loading what="application" />;
  const { app } = data;
  const tabs: readonly string[] = app.kind === 'bookmark' ? bookmarkTabs : oidcTabs;
  const slug = (name: string) => name.toLowerCase().replace(/[^a-z]+/g, '-').replace(/-$/, '');
  const current = tabs.find((name) => slug(name) === tab) ?? tabs[0];
  return (
    <Page
      crumbs={[{ href: '/admin/apps', label: 'Applications' }]}
      current={app.name}
      title={app.name}
      icon={app.iconDataUri ? <img class="app-icon app-icon-large" src={app.iconDataUri} alt="" /> : <span class={`app-icon app-icon-large app-icon-${app.kind}`} aria-hidden="true">{app.name.charAt(0)}</span>}
      intro={<Badge value={app.kind} label={kindLabels[app.kind]} />}
    >
      <div class="tabs" role="tablist" aria-label="Application settings">
        {tabs.map((name) => (
          <button
            key={name}
            type="button"
            role="tab"
            id={`tab-${slug(name)}`}
            aria-selected={name === current}
            aria-controls="tab-panel"
            tabIndex={name === current ? 0 : -1}
            class="tab"
            onClick={() => navigate(`/admin/apps/${app.id}/${slug(name)}`)}
            onKeyDown={(event) => {
              const index = tabs.indexOf(name);
              const next = event.key === 'ArrowRight' ? tabs[(index + 1) % tabs.length] : event.key === 'ArrowLeft' ? tabs[(index - 1 + tabs.length) % tabs.length] : null;
              if (next) {
                navigate(`/admin/apps/${app.id}/${slug(next)}`);
                setTimeout(() => document.getElementById(`tab-${slug(next)}`)?.focus(), 0);
              }
            }}
          >
            {name}
          </button>
        ))}
      </div>
      <div id="tab-panel" role="tabpanel" aria-labelledby={`tab-${slug(current)}`} class="tab-panel">
        {current === 'General' && <GeneralPanel app={app} onChange={reload} />}
        {current === 'Client & endpoints' && (
          <>
            <ReachabilityNote problem={data.reachability} />
            <ClientPanel app={app} endpoints={data.endpoints!} />
          </>
        )}
        {current === 'Provisioning' && (
          <>
            <ReachabilityNote problem={data.reachability} />
            <ScimPanel scimUrl={data.scimUrl!} />
          </>
        )}
        {current === 'Okta registration attribute' && <OktaConnectionPanel defaultDomain={app.oktaDomain ?? ''} />}
        {current === 'Tile image' && <TileImagePanel app={app} onChange={reload} />}
        {current === 'Assignments' && <AssignmentsPanel app={app} assigned={data.assignedGroups} onChange={reload} />}
      </div>
    </Page>
  );
}
