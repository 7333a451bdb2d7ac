import { browserSupportsWebAuthn, browserSupportsWebAuthnAutofill, startAuthentication, WebAuthnAbortService } from '@simplewebauthn/browser';
import { postJson, RequestError, setStatus } from './api.ts';

const { uid = '', csrf = '', hint = '', options = '', timeout = '60000', app = 'the application' } = document.body.dataset;
// Options the page arrived with serve the first button press; later attempts ask for fresh ones.
let embeddedOptions: unknown = options ? JSON.parse(options) : null;
const button = document.getElementById('signin') as HTMLButtonElement | null;
const status = document.getElementById('status');

// Once the person presses the button, a late autofill request must not start and abort it.
let buttonPressed = false;

// When the browser's prompt opened: a NotAllowedError after the whole timeout means it timed out.
let promptOpenedAt = 0;

async function signIn(useBrowserAutofill: boolean): Promise<void> {
  let optionsJSON = useBrowserAutofill ? null : embeddedOptions;
  if (!useBrowserAutofill) embeddedOptions = null;
  optionsJSON ??= await postJson(`/interaction/${uid}/passkey/options`, {}, csrf);
  if (useBrowserAutofill && buttonPressed) return;
  if (!useBrowserAutofill) promptOpenedAt = Date.now();
  const response = await startAuthentication({ optionsJSON: optionsJSON as never, useBrowserAutofill });
  setStatus(status, 'Checking your passkey…');
  const result = await postJson<{ redirect: string }>(`/interaction/${uid}/passkey/verify`, response, csrf);
  setStatus(status, 'Signed in. Returning to the application…', 'success');
  window.location.assign(result.redirect);
}

/**
 * What went wrong, in words the person can act on. WebAuthn reports cancelling, timing out and
 * "no passkey for this site on this device" all as NotAllowedError (WebAuthn L3 §5.1.4.1, to keep
 * sites from probing which credentials exist), so the elapsed time separates a timeout, and the
 * message for the rest covers both a cancel and a passkey that lives on another device.
 */
export function describeFailure(error: unknown, context: { elapsedMs: number; timeoutMs: number; appName: string }): string {
  const name = (error as { name?: string }).name;
  if (error instanceof RequestError) {
    switch (error.code) {
      case 'challenge_invalid':
        return 'This sign-in took too long and timed out. Press "Sign in with a passkey" to try again.';
      case 'passkey_invalid':
        return `That passkey is not (or no longer) registered here. Use another passkey, or ask your administrator for a new enrollment link.`;
      case 'rate_limited':
        return 'Too many attempts from this network. Wait a minute, then try again.';
      default:
        return error.message || 'Sign-in failed. Try again.';
    }
  }
  if (name === 'NotAllowedError') {
    if (context.elapsedMs >= context.timeoutMs - 1000) return 'The passkey prompt timed out. Press "Sign in with a passkey" to try again.';
    return 'No passkey was used. If you cancelled, press "Sign in with a passkey" to try again. If your passkey is on another device, choose "Use a phone or tablet" in the prompt and scan the QR code, or sign in on that device.';
  }
  if (name === 'AbortError') return 'The passkey request was cancelled. Press "Sign in with a passkey" to try again.';
  if (name === 'SecurityError') return `This page's address does not match the site your passkey belongs to. Open ${context.appName} again from its usual link.`;
  if (name === 'NotSupportedError') return 'This browser or device cannot use passkeys here. Try a current version of Chrome, Safari, Edge or Firefox, or your phone.';
  return (error as Error).message || 'Sign-in failed. Try again.';
}

function explain(error: unknown): void {
  if (!button) return;
  button.disabled = false;
  if (error instanceof RequestError && typeof error.body.continue_to === 'string') {
    // Refused for who the person is (deactivated, not assigned): say why, then hand back to the app.
    setStatus(status, `${error.message} Returning to the application…`, 'error');
    button.hidden = true;
    setTimeout(() => window.location.assign(String(error.body.continue_to)), 4000);
    return;
  }
  setStatus(status, describeFailure(error, { elapsedMs: Date.now() - promptOpenedAt, timeoutMs: Number(timeout), appName: app }), 'error');
}

if (!button) {
  // No ceremony on this page (the person has no passkey yet): the page says what to do instead.
} else if (!browserSupportsWebAuthn()) {
  setStatus(status, 'This browser cannot use passkeys. Open this page in a current version of Chrome, Safari, Edge or Firefox.', 'error');
  button.disabled = true;
} else {
  button.addEventListener('click', () => {
    buttonPressed = true;
    button.disabled = true;
    setStatus(status, 'Follow your browser\'s prompt to use your passkey…');
    WebAuthnAbortService.cancelCeremony();
    signIn(false).catch(explain);
  });
  // Without a hint, offer passkeys in the username field's autofill (conditional UI).
  if (!hint) {
    browserSupportsWebAuthnAutofill()
      .then((supported) => (supported ? signIn(true) : undefined))
      .catch((error) => {
        const name = (error as { name?: string }).name;
        if (name !== 'AbortError' && !(error instanceof RequestError && error.code === 'challenge_invalid')) explain(error);
      });
  }
}
