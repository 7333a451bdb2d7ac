/** "Add passkey(s)": one invitation email per selected person, then each delivery followed until sent or failed. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../../ui/api.ts';
import { Badge, ErrorNote, Modal } from '../../ui/components.tsx';
import type { BulkInviteResult, IdentityView } from '../../../server/edges/admin/views.ts';

type BulkResult = BulkInviteResult;

export function BulkSendDialog({ people, onClose }: { people: IdentityView[]; onClose: () => void }) {
  const [results, setResults] = useState<BulkResult[] | null>(null);
  const [states, setStates] = useState<Map<string, { sendState: string; sendError: string | null }>>(new Map());
  const [error, setError] = useState<unknown>(null);
  const timer = useRef<number | null>(null);

  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);

  async function poll(ids: string[]) {
    const { items } = await api<{ items: Array<{ id: string; sendState: string; sendError: string | null }> }>('GET', `/admin/api/invites/status?ids=${ids.join(',')}`);
    const next = new Map(items.map((item) => [item.id, item]));
    setStates(next);
    if (items.some((item) => item.sendState === 'queued')) timer.current = window.setTimeout(() => poll(ids), 1000);
  }

  async function send() {
    try {
      const response = await api<{ results: BulkResult[] }>('POST', '/admin/api/invites/bulk', { identityIds: people.map((person) => person.id) });
      setResults(response.results);
      const ids = response.results.filter((result) => result.inviteId).map((result) => result.inviteId!);
      if (ids.length) await poll(ids);
    } catch (failure) {
      setError(failure);
    }
  }

  const queued = results?.filter((result) => result.outcome === 'queued') ?? [];
  const sent = queued.filter((result) => states.get(result.inviteId!)?.sendState === 'sent').length;
  const failed = queued.filter((result) => states.get(result.inviteId!)?.sendState === 'failed').length + (results?.filter((result) => result.outcome === 'refused').length ?? 0);
  const done = results !== null && sent + failed === results.length;
  const outcomeOf = (result: BulkResult) => (result.outcome === 'refused' ? 'refused' : (states.get(result.inviteId!)?.sendState ?? 'queued'));

  return (
    <Modal
      title="Add passkey(s)"
      wide
      onClose={onClose}
      footer={
        results === null ? (
          <>
            <button type="button" class="button" onClick={onClose}>
              Cancel
            </button>
            <button type="button" class="button button-primary" onClick={send}>
              Send {people.length} enrollment email{people.length === 1 ? '' : 's'}
            </button>
          </>
        ) : (
          <button type="button" class="button button-primary" onClick={onClose}>
            {done ? 'Done' : 'Close (sending continues)'}
          </button>
        )
      }
    >
      {results === null ? (
        <p>
          Each selected person gets an email with a personal enrollment link. A newer link replaces any older one they have. Recipients: {people.slice(0, 5).map((person) => person.userName).join(', ')}
          {people.length > 5 ? ` and ${people.length - 5} more` : ''}.
        </p>
      ) : (
        <>
          <div class="progress-summary">
            <progress max={results.length} value={sent + failed} aria-label="Sending progress" />
            <span role="status" aria-live="polite" data-testid="bulk-progress">
              {sent} sent · {failed} failed · {results.length - sent - failed} waiting
            </span>
          </div>
          <table>
            <caption class="visually-hidden">Result per person</caption>
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col">Email</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {results.map((result) => (
                <tr key={result.identityId}>
                  <td>{result.userName ?? result.identityId}</td>
                  <td>{result.email ?? '—'}</td>
                  <td>
                    <Badge value={outcomeOf(result)} />
                    {(result.reason || states.get(result.inviteId ?? '')?.sendError) && <span class="small muted"> {result.reason ?? states.get(result.inviteId!)?.sendError}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {error ? <ErrorNote error={error} /> : null}
    </Modal>
  );
}

