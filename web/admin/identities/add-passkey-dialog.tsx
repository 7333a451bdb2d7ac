/** "Add passkey" for one person: an enrollment email, or a link to hand over yourself. */
import { useState } from 'preact/hooks';
import { api, formatTime } from '../../ui/api.ts';
import { CopyField, ErrorNote, Modal, useToast } from '../../ui/components.tsx';
import type { IdentityView } from '../../../server/edges/admin/views.ts';

export function AddPasskeyDialog({ identity, onClose }: { identity: IdentityView; onClose: () => void }) {
  const toast = useToast();
  const [how, setHow] = useState<'email' | 'link'>('email');
  const [ttl, setTtl] = useState('168');
  const [link, setLink] = useState<{ url: string; expiresAt: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  return (
    <Modal
      title="Add passkey"
      onClose={onClose}
      footer={
        link ? (
          <button type="button" class="button button-primary" onClick={onClose}>
            Done
          </button>
        ) : (
          <>
            <button type="button" class="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" form="add-passkey" class="button button-primary">
              {how === 'email' ? 'Send email' : 'Generate link'}
            </button>
          </>
        )
      }
    >
      {link ? (
        <>
          <p>Give this link to {identity.name} over a channel you trust. It stays valid until they create a passkey with it, or until it expires.</p>
          <CopyField label="Enrollment link" value={link.url} />
          <p class="muted">Expires {formatTime(link.expiresAt)}.</p>
        </>
      ) : (
        <form
          id="add-passkey"
          onSubmit={async (event) => {
            event.preventDefault();
            try {
              const result = await api<{ url?: string; expiresAt: string; to?: string }>('POST', `/admin/api/identities/${identity.id}/invite`, { delivery: how, ttlHours: Number(ttl) });
              if (how === 'link') setLink({ url: result.url!, expiresAt: result.expiresAt });
              else {
                toast(`Enrollment email queued for ${result.to}`);
                onClose();
              }
            } catch (failure) {
              setError(failure);
            }
          }}
        >
          <fieldset class="choice-group">
            <legend>How should {identity.name} get the enrollment link?</legend>
            <label class={`choice ${how === 'email' ? 'choice-selected' : ''}`}>
              <input type="radio" name="how" checked={how === 'email'} onChange={() => setHow('email')} />
              <span>
                <strong>Send email</strong>
                <small>to {identity.email}</small>
              </span>
            </label>
            <label class={`choice ${how === 'link' ? 'choice-selected' : ''}`}>
              <input type="radio" name="how" checked={how === 'link'} onChange={() => setHow('link')} />
              <span>
                <strong>Generate link</strong>
                <small>to copy and hand over yourself</small>
              </span>
            </label>
          </fieldset>
          <label class="field">
            Link expires after
            <select value={ttl} onChange={(event) => setTtl(event.currentTarget.value)}>
              <option value="1">1 hour</option>
              <option value="24">1 day</option>
              <option value="168">7 days</option>
              <option value="336">14 days</option>
            </select>
          </label>
          {error ? <ErrorNote error={error} /> : null}
        </form>
      )}
    </Modal>
  );
}
