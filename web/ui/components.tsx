/**
 * The few building blocks every console and dashboard page shares: toasts, modal dialogs (the
 * native <dialog>, which traps focus and closes on Escape), copy buttons, a pager, status badges.
 */
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';

// ------------------------------------------------------------------ toasts
type Toast = { id: number; text: string; kind: 'success' | 'error' };
const ToastContext = createContext<(text: string, kind?: Toast['kind']) => void>(() => undefined);
export const useToast = () => useContext(ToastContext);

export function ToastProvider({ children }: { children: ComponentChildren }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const push = useCallback((text: string, kind: Toast['kind'] = 'success') => {
    const id = Date.now() + Math.random();
    setToasts((list) => [...list, { id, text, kind }]);
    setTimeout(() => setToasts((list) => list.filter((toast) => toast.id !== id)), kind === 'error' ? 8000 : 4000);
  }, []);
  return (
    <ToastContext.Provider value={push}>
      {children}
      <div class="toasts" role="status" aria-live="polite">
        {toasts.map((toast) => (
          <div key={toast.id} class={`toast toast-${toast.kind}`}>
            {toast.text}
            <button type="button" class="icon-button" aria-label="Dismiss notification" onClick={() => setToasts((list) => list.filter((t) => t.id !== toast.id))}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

// ------------------------------------------------------------------ modal
export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren; footer?: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    if (!dialog.open) dialog.showModal();
    const onCancel = (event: Event) => {
      event.preventDefault();
      props.onClose();
    };
    dialog.addEventListener('cancel', onCancel);
    return () => {
      dialog.removeEventListener('cancel', onCancel);
      opener?.focus?.();
    };
  }, []);
  const titleId = `modal-${props.title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <dialog ref={ref} class={props.wide ? 'modal modal-wide' : 'modal'} aria-labelledby={titleId}>
      <header class="modal-header">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" class="icon-button" aria-label="Close dialog" onClick={props.onClose}>
          ×
        </button>
      </header>
      <div class="modal-body">{props.children}</div>
      {props.footer && <footer class="modal-footer">{props.footer}</footer>}
    </dialog>
  );
}

// ------------------------------------------------------------------ copy
/**
 * "Are you sure?" for destructive actions. The confirm button runs `onConfirm`; a failure is
 * shown as an error toast and the dialog closes either way (the page reloads what changed).
 */
export function ConfirmDialog(props: { title: string; confirmLabel: string; cancelLabel?: string; onCancel: () => void; onConfirm: () => Promise<void>; children: ComponentChildren }) {
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const confirm = async () => {
    setBusy(true);
    try {
      await props.onConfirm();
    } catch (failure) {
      toast((failure as Error).message, 'error');
    }
    setBusy(false);
    props.onCancel();
  };
  return (
    <Modal
      title={props.title}
      onClose={props.onCancel}
      footer={
        <>
          <button type="button" class="button" onClick={props.onCancel}>
            {props.cancelLabel ?? 'Cancel'}
          </button>
          <button type="button" class="button button-danger" disabled={busy} onClick={confirm}>
            {props.confirmLabel}
          </button>
        </>
      }
    >
      {props.children}
    </Modal>
  );
}

/** The one row a table shows while it loads, or when nothing matches. */
export function TableMessage(props: { columns: number; loading?: string; empty?: string }) {
  if (!props.loading && !props.empty) return null;
  return (
    <tr>
      <td colSpan={props.columns} class={props.loading ? undefined : 'muted'}>
        {props.loading ? <Loading what={props.loading} /> : props.empty}
      </td>
    </tr>
  );
}

export function CopyButton({ value, label }: { value: string; label: string }) {
  const toast = useToast();
  return (
    <button
      type="button"
      class="button button-small"
      aria-label={`Copy ${label}`}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(value);
          toast(`${label} copied`);
        } catch {
          toast(`Could not copy: select the ${label} and copy it by hand`, 'error');
        }
      }}
    >
      Copy
    </button>
  );
}

/** A read-only value with its copy button: client ids, endpoints, secrets, links. */
export function CopyField({ label, value, mono = true }: { label: string; value: string; mono?: boolean }) {
  const id = `field-${label.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <div class="copy-field">
      <label for={id}>{label}</label>
      <div class="copy-row">
        <input id={id} class={mono ? 'mono' : ''} readOnly value={value} onFocus={(event) => event.currentTarget.select()} />
        <CopyButton value={value} label={label} />
      </div>
    </div>
  );
}

// ------------------------------------------------------------------ paging & badges
export function Pager(props: { offset: number; limit: number; total: number; onChange: (offset: number) => void; what: string }) {
  const { offset, limit, total } = props;
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(offset + limit, total);
  return (
    <nav class="pager" aria-label={`${props.what} pages`}>
      <span>
        {from.toLocaleString()}–{to.toLocaleString()} of {total.toLocaleString()}
      </span>
      <button type="button" class="button button-small" disabled={offset === 0} onClick={() => props.onChange(Math.max(0, offset - limit))} aria-label="Previous page">
        ‹ Previous
      </button>
      <button type="button" class="button button-small" disabled={offset + limit >= total} onClick={() => props.onChange(offset + limit)} aria-label="Next page">
        Next ›
      </button>
    </nav>
  );
}

const badgeKinds: Record<string, string> = { enrolled: 'good', active: 'good', success: 'good', sent: 'good', queued: 'info', pending: 'warn', expired: 'warn', unenrolled: 'neutral', revoked: 'bad', failure: 'bad', failed: 'bad', refused: 'bad', deactivated: 'bad' };
export function Badge({ value, label }: { value: string; label?: string }) {
  return <span class={`badge badge-${badgeKinds[value] ?? 'neutral'}`}>{label ?? value.charAt(0).toUpperCase() + value.slice(1)}</span>;
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function ErrorNote({ error }: { error: unknown }) {
  return (
    <p class="error-note" role="alert">
      {(error as Error)?.message ?? String(error)}
    </p>
  );
}

/** Loads once (and again when `deps` change); `reload` re-runs it. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): { data: T | null; error: unknown; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (value) => live && (setData(value), setError(null)),
      (failure) => live && setError(failure),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((n) => n + 1) };
}
