/**
 * A dialog around one form: Enter submits, the submit button shows progress, and a refusal from
 * the server stays in the dialog (with the field values kept) instead of closing it.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ErrorNote, Modal } from './components.tsx';

let nextId = 0;

export function FormDialog(props: {
  title: string;
  submitLabel: string;
  busyLabel?: string;
  onSubmit: () => Promise<void>;
  onClose: () => void;
  children: ComponentChildren;
  danger?: boolean;
  wide?: boolean;
  disabled?: boolean;
}) {
  const [formId] = useState(() => `form-dialog-${++nextId}`);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function submit(event: Event) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await props.onSubmit();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal
      title={props.title}
      wide={props.wide}
      onClose={props.onClose}
      footer={
        <>
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" form={formId} class={`button ${props.danger ? 'button-danger' : 'button-primary'}`} disabled={busy || props.disabled}>
            {busy ? (props.busyLabel ?? `${props.submitLabel}…`) : props.submitLabel}
          </button>
        </>
      }
    >
      <form id={formId} onSubmit={submit}>
        {props.children}
        {error ? <ErrorNote error={error} /> : null}
      </form>
    </Modal>
  );
}
