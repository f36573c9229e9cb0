/** Credentials out of URLs before they reach a terminal, a journal or a report. */
/** A connection URL without its password, for messages and journals. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
