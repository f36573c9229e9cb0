/**
 * Which proxy and toxic names can be addressed through the API: a name becomes a path segment
 * (`/proxies/{name}/toxics/{toxic}`), so a name that cannot survive that round trip would be
 * created and then never be readable or deletable, its listener left running until the server
 * restarts. Such names are refused at creation instead:
 *
 * - empty, `.` and `..`: clients and URL parsers normalise them away (`/proxies/..` is `/`);
 * - a `/`: it splits the segment (`%2F` would be decoded back into one by some clients and
 *   proxies, and Toxiproxy's own router cannot match it either);
 * - a lone UTF-16 surrogate: it has no UTF-8 form, so `encodeURIComponent` throws and a
 *   server decodes it to U+FFFD, another name;
 * - control characters (U+0000–U+001F, U+007F–U+009F): HTTP clients refuse or strip them in
 *   a request target, and they make logs and tables lie.
 */

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `name` cannot be a path segment, or undefined when it can. */
export function pathNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name === '.' || name === '..') return `"${name}" cannot be addressed in a URL path`;
  if (name.includes('/')) return 'must not contain "/"';
  if (LONE_SURROGATE.test(name)) return 'must not contain a lone UTF-16 surrogate';
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'must not contain control characters';
  return undefined;
}

/** The hint that goes with every {@link pathNameProblem}. */
export const PATH_NAME_HINT =
  'the name becomes a URL path segment: use letters, digits and - _ . (e.g. "postgres_proxy")';
