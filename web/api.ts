/** JSON POST with the page's CSRF token; errors carry the server's own description. */
export class RequestError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly body: Record<string, unknown>,
  ) {
    super(message);
  }
}

export async function postJson<T = Record<string, unknown>>(path: string, body: unknown, csrf: string): Promise<T> {
  const response = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: JSON.stringify(body ?? {}),
  });
  const data = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    throw new RequestError(String(data.error_description ?? `request failed (${response.status})`), String(data.error ?? 'error'), data);
  }
  return data as T;
}

export function setStatus(element: HTMLElement | null, text: string, kind: 'info' | 'error' | 'success' = 'info'): void {
  if (!element) return;
  element.textContent = text;
  element.dataset.kind = kind;
}
