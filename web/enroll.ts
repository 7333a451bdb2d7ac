import { browserSupportsWebAuthn, platformAuthenticatorIsAvailable, startRegistration } from '@simplewebauthn/browser';
import { postJson, setStatus } from './api.ts';

const { token = '', csrf = '' } = document.body.dataset;
const button = document.getElementById('create') as HTMLButtonElement;
const nameInput = document.getElementById('passkey-name') as HTMLInputElement;
const deviceStatus = document.getElementById('device-status');
const createStatus = document.getElementById('create-status');

async function checkDevice(): Promise<void> {
  if (!browserSupportsWebAuthn()) {
    setStatus(deviceStatus, 'This browser cannot create passkeys. Open this link in a current version of Chrome, Safari, Edge or Firefox, or on your phone.', 'error');
    button.disabled = true;
    return;
  }
  const platform = await platformAuthenticatorIsAvailable().catch(() => false);
  setStatus(
    deviceStatus,
    platform
      ? 'This device is ready: it can keep a passkey, unlocked with your fingerprint, face or PIN.'
      : 'This device has no built-in passkey support, but you can still continue: your browser will offer a security key, or a QR code to create the passkey on your phone.',
    'success',
  );
}

// Enter in the name field creates the passkey, as a form would.
nameInput?.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !button.disabled && !button.hidden) {
    event.preventDefault();
    button.click();
  }
});

button.addEventListener('click', async () => {
  button.disabled = true;
  setStatus(createStatus, 'Follow your browser\'s prompt to create the passkey…');
  try {
    const optionsJSON = await postJson(`/enroll/${token}/options`, {}, csrf);
    const response = await startRegistration({ optionsJSON: optionsJSON as never });
    setStatus(createStatus, 'Saving your passkey…');
    const result = await postJson<{ passkey: { name: string } }>(`/enroll/${token}/verify`, { response, name: nameInput.value }, csrf);
    setStatus(createStatus, 'Passkey created.', 'success');
    const done = document.getElementById('step-done');
    const doneName = document.getElementById('done-name');
    if (doneName) doneName.textContent = result.passkey.name;
    if (done) done.hidden = false;
    button.hidden = true;
    document.getElementById('continue')?.focus();
  } catch (error) {
    button.disabled = false;
    const name = (error as { name?: string }).name;
    setStatus(
      createStatus,
      name === 'NotAllowedError' ? 'The passkey was not created (cancelled or timed out). You can try again.' : name === 'InvalidStateError' ? 'This device already holds a passkey for your account.' : (error as Error).message,
      'error',
    );
  }
});

checkDevice().catch(() => undefined);
