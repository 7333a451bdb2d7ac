import { browserSupportsWebAuthn, browserSupportsWebAuthnAutofill, startAuthentication, WebAuthnAbortService } from '@simplewebauthn/browser';
import { postJson, RequestError, setStatus } from './api.ts';

const { uid = '', csrf = '', hint = '', options = '' } = document.body.dataset;
// Options the page arrived with serve the first button press; later attempts ask for fresh ones.
let embeddedOptions: unknown = options ? JSON.parse(options) : null;
const button = document.getElementById('signin') as HTMLButtonElement;
const status = document.getElementById('status');

// Once the person presses the button, a late autofill request must not start and abort it.
let buttonPressed = false;

async function signIn(useBrowserAutofill: boolean): Promise<void> {
  let optionsJSON = useBrowserAutofill ? null : embeddedOptions;
  if (!useBrowserAutofill) embeddedOptions = null;
  optionsJSON ??= await postJson(`/interaction/${uid}/passkey/options`, {}, csrf);
  if (useBrowserAutofill && buttonPressed) return;
  const response = await startAuthentication({ optionsJSON: optionsJSON as never, useBrowserAutofill });
  setStatus(status, 'Checking your passkey…');
  const result = await postJson<{ redirect: string }>(`/interaction/${uid}/passkey/verify`, response, csrf);
  setStatus(status, 'Signed in. Returning to the application…', 'success');
  window.location.assign(result.redirect);
}

function explain(error: unknown): void {
  button.disabled = false;
  if (error instanceof RequestError && typeof error.body.continue_to === 'string') {
    // Refused for who the person is (deactivated, not assigned): say why, then hand back to the app.
    setStatus(status, `${error.message} Returning to the application…`, 'error');
    button.hidden = true;
    setTimeout(() => window.location.assign(String(error.body.continue_to)), 4000);
    return;
  }
  const name = (error as { name?: string }).name;
  if (name === 'NotAllowedError' || name === 'AbortError') {
    setStatus(status, 'The passkey request was cancelled or timed out. Try again.', 'error');
    return;
  }
  setStatus(status, (error as Error).message || 'Sign-in failed. Try again.', 'error');
}

if (!browserSupportsWebAuthn()) {
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
