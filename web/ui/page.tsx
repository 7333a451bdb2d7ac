/**
 * The frame of every console page: breadcrumbs, one h1 with its intro, the page's main actions,
 * then the content. Headings below it start at h2, so the outline never skips a level.
 */
import type { ComponentChildren } from 'preact';
import { Link } from '../ui/router.tsx';

export interface Crumb {
  href: string;
  label: string;
}

export function Page(props: { title: ComponentChildren; intro?: ComponentChildren; actions?: ComponentChildren; crumbs?: Crumb[]; current?: string; icon?: ComponentChildren; children?: ComponentChildren }) {
  return (
    <section aria-labelledby="page-title">
      {props.crumbs && (
        <nav aria-label="Breadcrumb" class="breadcrumb">
          <ol>
            {props.crumbs.map((crumb) => (
              <li key={crumb.href}>
                <Link href={crumb.href}>{crumb.label}</Link>
              </li>
            ))}
            {props.current && <li aria-current="page">{props.current}</li>}
          </ol>
        </nav>
      )}
      <div class="page-header">
        <div class={props.icon ? 'app-title' : undefined}>
          {props.icon}
          <div>
            <h1 id="page-title">{props.title}</h1>
            {props.intro && <div class="muted page-intro">{props.intro}</div>}
          </div>
        </div>
        {props.actions && <div class="page-actions">{props.actions}</div>}
      </div>
      {props.children}
    </section>
  );
}
