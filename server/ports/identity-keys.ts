/**
 * The keys the store compares identities by, defined once so every adapter derives the same ones.
 * - userName and email compare after Unicode NFKC + full case folding (CaseFolding.txt C+F), then
 *   trimming: "José" precomposed and decomposed, "ＭＡＬＬＯＲＹ" and "mallory", "STRASSE" and
 *   "straße" are one name (RFC 7643 §2.4 caseExact=false; the PRECIS idea of RFC 8265 §3.4).
 * - A userName also has a confusable skeleton (Unicode TR39 §4): two names whose skeletons are
 *   equal look alike ("mallory" with a Cyrillic "а"), so only one of them may exist. The
 *   prototype mapping is Unicode's confusables.txt, shipped by the `unhomoglyph` package.
 * - NFKC_Casefold is applied as NFKC(fold(NFKC(x))): folding can un-normalise ("ǰ" -> "ǰ"),
 *   so the second NFKC puts the result back into one form.
 */
import { createRequire } from 'node:module';
import { caseFold } from 'unicode-case-folding';

// unhomoglyph builds one regular expression over ~6,300 confusables at load (~0.3 s): loaded on
// the first skeleton, so a CLI command that never writes a userName does not pay for it.
const requireModule = createRequire(import.meta.url);
let prototypesOf: ((value: string) => string) | null = null;
const toPrototypes = (value: string): string => (prototypesOf ??= requireModule('unhomoglyph') as (value: string) => string)(value);

/** The comparison key of a userName or login_hint: NFKC, case-folded, trimmed. */
export function userNameKey(userName: string): string {
  return caseFold(userName.normalize('NFKC')).normalize('NFKC').trim();
}

/** The comparison key of an email address: the same canonical form as userNames. */
export const emailKey = userNameKey;

const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * TR39 §4 skeleton(X): NFD, drop default-ignorable code points, map each code point to its
 * confusables.txt prototype, NFD again. Taken of the folded key so case variants, which the key
 * already equates, cannot produce two skeletons.
 */
export function userNameSkeleton(userName: string): string {
  const decomposed = userNameKey(userName).normalize('NFD').replace(DEFAULT_IGNORABLE, '');
  return toPrototypes(decomposed).normalize('NFD');
}
