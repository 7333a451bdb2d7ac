/**
 * A server-paged list: filters (kept in the address bar when `urlPath` is given, so a filtered
 * view can be bookmarked or shared), a debounced search box, the page offset (back to the first
 * page when a filter changes) and the loaded page.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, query } from './api.ts';
import { useLoad } from './components.tsx';

export interface ListPage<Row> {
  total: number;
  items: Row[];
}

export function useListQuery<Row, Filters extends Record<string, string> = Record<string, string>>(
  path: string,
  options: { pageSize: number; filters?: Filters; urlPath?: string },
) {
  const initial = { search: '', ...(options.filters ?? {}) } as Filters & { search: string };
  if (options.urlPath) {
    const params = new URLSearchParams(window.location.search);
    for (const key of Object.keys(initial)) (initial as Record<string, string>)[key] = params.get(key) ?? (initial as Record<string, string>)[key];
  }
  const [filters, setFilters] = useState(initial);
  const [search, setSearch] = useState(initial.search);
  const [offset, setOffset] = useState(0);

  useEffect(() => {
    const timer = setTimeout(() => setFilters((current) => (current.search === search ? current : { ...current, search })), 250);
    return () => clearTimeout(timer);
  }, [search]);
  const key = JSON.stringify(filters);
  useEffect(() => setOffset(0), [key]);
  useEffect(() => {
    if (options.urlPath) window.history.replaceState(null, '', `${options.urlPath}${query(filters)}`);
  }, [key]);

  const { data, error, reload } = useLoad(() => api<ListPage<Row>>('GET', `${path}${query({ ...filters, offset, limit: options.pageSize })}`), [key, offset]);
  return {
    filters,
    setFilter: (name: keyof Filters, value: string) => setFilters((current) => ({ ...current, [name]: value })),
    search: { value: search, onInput: (event: Event) => setSearch((event.currentTarget as HTMLInputElement).value) },
    page: { rows: data?.items ?? null, total: data?.total, offset, limit: options.pageSize, onOffset: setOffset },
    data,
    error,
    reload,
  };
}
