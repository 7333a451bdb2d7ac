/** A bookmark's tile image: uploaded, then re-encoded by the server as a 128 × 128 PNG. */
import { useState } from 'preact/hooks';
import { api } from '../../ui/api.ts';
import { useToast } from '../../ui/components.tsx';
import type { AppView } from '../../../server/edges/admin/views.ts';

type AppInfo = AppView;

function readAsDataUri(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

export function TileImagePanel({ app, onChange }: { app: AppInfo; onChange: () => void }) {
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  return (
    <div class="card">
      <h2>App tile image</h2>
      <p class="muted">PNG, JPEG or SVG, up to 256 KB. Every image is converted to a 128 × 128 PNG, so an SVG cannot carry script.</p>
      <div class="tile-preview">
        {app.iconDataUri ? <img src={app.iconDataUri} alt={`Current tile image of ${app.name}`} width={64} height={64} /> : <span class="app-icon app-icon-large app-icon-bookmark" aria-hidden="true">{app.name.charAt(0)}</span>}
        <label class="button">
          {busy ? 'Uploading…' : 'Upload image'}
          <input
            class="visually-hidden"
            type="file"
            accept="image/png,image/jpeg,image/svg+xml"
            aria-label="Upload tile image"
            onChange={async (event) => {
              const file = event.currentTarget.files?.[0];
              if (!file) return;
              if (file.size > 256 * 1024) {
                toast(`${file.name} is ${Math.ceil(file.size / 1024)} KB; the limit is 256 KB`, 'error');
                return;
              }
              setBusy(true);
              try {
                await api('PUT', `/admin/api/apps/${app.id}/icon`, { dataUri: await readAsDataUri(file) });
                toast('Tile image saved');
                onChange();
              } catch (error) {
                toast((error as Error).message, 'error');
              } finally {
                setBusy(false);
              }
            }}
          />
        </label>
      </div>
    </div>
  );
}
