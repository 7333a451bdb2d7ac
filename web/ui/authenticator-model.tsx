/**
 * An authenticator model: its icon (when the catalogue has one) beside its name. The icon is a
 * data: URL, possibly SVG, and is only ever an <img src>: an image cannot run an SVG's script,
 * whereas SVG markup inserted into the page could. Decorative (alt=""), the name says it all.
 */
export function AuthenticatorModel({ name, icon, fallback = 'Unknown model' }: { name: string | null; icon: string | null; fallback?: string }) {
  return (
    <span class="authenticator-model">
      {icon && /^data:image\//.test(icon) ? <img class="authenticator-icon" src={icon} alt="" width={20} height={20} /> : null}
      <span>{name ?? fallback}</span>
    </span>
  );
}
